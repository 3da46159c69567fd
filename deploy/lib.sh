# deploy/lib.sh - shell functions shared by the quick start (deploy/quickstart.sh)
# and CI (.ci/run): install the Debian packages, start and stop a private
# PostgreSQL cluster in a folder. Source it; it defines functions only.

# Build and run-time packages, plus what the tests use as real peers:
# python3-aiosmtpd is the SMTP server the messaging tests deliver to,
# python3-yaml reads docs/openapi.yaml as strictly as API tools do, and
# openssl makes its self-signed STARTTLS certificate; systemd's
# systemd-analyze verifies the units in deploy/ (the deploy test suite);
# chromium is the browser the browser suite drives the visual editor in.
# Node.js 20 and npm, which build the editor (wf_web_build), come with the
# machine: Debian 12's own Node is too old for its build tools.
WF_PACKAGES=(
	build-essential meson ninja-build pkg-config python3
	libpq-dev libuv1-dev libcjson-dev libcurl4-openssl-dev libesmtp-dev
	libhttp-parser-dev libssl-dev check
	postgresql-15 postgresql-client-15
	python3-aiosmtpd python3-yaml openssl clang libclang-rt-14-dev systemd chromium wrk
)

WF_PG_BIN=/usr/lib/postgresql/15/bin

wf_log() { printf '==> %s\n' "$*" >&2; }

wf_as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs what is missing (apt-get update once, only when something is).
wf_install_packages() {
	local missing=()
	local p
	for p in "${WF_PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	wf_log "installing ${missing[*]}"
	wf_as_root apt-get update -qq
	wf_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# wf_web_build ROOT: builds the visual editor into ROOT/web/dist with the
# exact versions of web/package-lock.json (npm ci, then Vite). npm's cache
# and logs stay in ROOT/.local: nothing is kept outside the project. The
# engine never needs Node; only this step does.
wf_web_build() {
	local root=$1
	if ! command -v npm >/dev/null 2>&1; then
		wf_log "npm is missing: install Node.js 20 or later (with npm) to build the visual editor"
		return 1
	fi
	wf_log "building the visual editor into web/dist (node $(node --version))"
	(
		cd "$root/web" &&
			export npm_config_cache="$root/.local/npm-cache" npm_config_logs_dir="$root/.local/npm-logs" \
				npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false &&
			npm ci --loglevel=error >/dev/null &&
			npm run --silent build >/dev/null
	)
}

# The user that owns and runs the private cluster: initdb refuses root.
wf_pg_user() {
	if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

wf_pg_run() {
	local user
	user=$(wf_pg_user)
	if [ "$(id -un)" = "$user" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

# A free TCP port on the loopback interface.
wf_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wf_pg_start DIR [PORT]: creates (once) and starts a cluster in DIR with its
# unix socket in DIR, then exports PGHOST, PGPORT and PGUSER for it.
wf_pg_start() {
	local dir=$1 port=${2:-}
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown "$(wf_pg_user)" "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		wf_pg_run "$WF_PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >/dev/null
	fi
	[ -n "$port" ] || port=$(cat "$dir/port" 2>/dev/null || wf_free_port)
	echo "$port" >"$dir/port.tmp" && mv "$dir/port.tmp" "$dir/port"
	[ "$(id -u)" = 0 ] && chown "$(wf_pg_user)" "$dir/port"
	if ! wf_pg_run "$WF_PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		wf_pg_run "$WF_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
			-o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=256MB ${WF_PG_OPTIONS:-}" \
			start >/dev/null
	fi
	export PGHOST=$dir PGPORT=$port PGUSER=postgres
}

wf_pg_stop() {
	local dir=$1
	[ -f "$dir/data/PG_VERSION" ] || return 0
	wf_pg_run "$WF_PG_BIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
}
