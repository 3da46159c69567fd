#!/usr/bin/env bash
# deploy/quickstart.sh - from a fresh Debian 12 machine to a running engine.
#
# Installs what is missing, builds the engine and the visual editor (web/,
# which needs Node.js; the engine runs without it), starts a local
# PostgreSQL in .local/pg of the project (the embedded default; skipped when
# DATABASE_URL or DB_HOST points at a database), migrates, and runs the coordinator and a worker
# pool in the foreground until Ctrl-C, which stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. deploy/lib.sh

wf_install_packages
wf_web_build "$root" || wf_log "the visual editor was not built: the API runs without it"
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=release >/dev/null
fi
meson compile -C build >/dev/null
wf_log "built build/coordinator/wf-coordinator and build/worker/wf-worker"

started_pg=""
if [ -z "${DATABASE_URL:-}" ] && [ -z "${DB_HOST:-}" ]; then
	pgdir=$root/.local/pg
	mkdir -p "$pgdir"
	[ "$(id -u)" = 0 ] && chown "$(wf_pg_user)" "$pgdir"
	# The cluster's owner must reach the folder; under /root it cannot.
	if ! wf_pg_run test -w "$pgdir" 2>/dev/null; then
		pgdir=/var/tmp/wf-engine-pg-$(id -u)
		wf_log "the project folder is not reachable by $(wf_pg_user); using $pgdir"
	fi
	wf_pg_start "$pgdir"
	started_pg=$pgdir
	psql -X -q -d postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'workflow_db'" | grep -q 1 ||
		createdb workflow_db
	export DATABASE_URL="postgresql:///workflow_db?host=$PGHOST&port=$PGPORT&user=$PGUSER"
	wf_log "PostgreSQL runs in $pgdir (psql \"$DATABASE_URL\")"
fi

# Demo time: a day of the shipped workflows' waits lasts a second (README).
export DELAY_SCALE=${DELAY_SCALE:-86400}
wf_log "DELAY_SCALE=$DELAY_SCALE (a day lasts $(python3 -c "print(round(86400 / $DELAY_SCALE, 3))") s)"
build/coordinator/wf-coordinator migrate
build/coordinator/wf-coordinator &
coordinator=$!
build/worker/wf-worker &
worker=$!

# Also on a hangup (the terminal closed, the SSH session dropped): the
# daemons would take theirs as a reload and run on, holding the port and
# the cluster. The terminal may be gone, so the log line may fail.
stop() {
	trap - INT TERM HUP
	wf_log "stopping" 2>/dev/null || true
	kill -TERM "$coordinator" "$worker" 2>/dev/null || true
	wait "$coordinator" "$worker" 2>/dev/null || true
	[ -n "$started_pg" ] && wf_pg_stop "$started_pg"
	exit 0
}
trap stop INT TERM HUP
wf_log "running: API and the visual editor on http://127.0.0.1:${PORT:-4000}/ (Ctrl-C stops everything)"
wait -n "$coordinator" "$worker" || true
stop
