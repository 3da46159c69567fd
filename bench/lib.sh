# bench/lib.sh - shared set-up of the benchmark commands (source it).
#
# Each benchmark runs against a fresh database on the cluster named by
# PGHOST/PGPORT/PGUSER, or, when PGHOST is unset, on a private cluster it
# starts in a temporary folder with PostgreSQL's default durability
# settings. Binaries come from BUILD_DIR (default: build-release, built with
# buildtype=release when missing).

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$bench_root/deploy/lib.sh"

BUILD_DIR=${BUILD_DIR:-$bench_root/build-release}

bench_build() {
	if [ ! -f "$BUILD_DIR/build.ninja" ]; then
		meson setup "$BUILD_DIR" "$bench_root" --buildtype=release -Dtests=disabled >/dev/null
	fi
	meson compile -C "$BUILD_DIR" >/dev/null
	COORDINATOR=$BUILD_DIR/coordinator/wf-coordinator
	WORKER=$BUILD_DIR/worker/wf-worker
}

bench_cluster() {
	if [ -z "${PGHOST:-}" ]; then
		BENCH_PG=$(mktemp -d /tmp/wf-bench-pg.XXXXXX)
		chmod 755 "$BENCH_PG"
		wf_pg_start "$BENCH_PG"
		trap 'wf_pg_stop "$BENCH_PG"; rm -rf "$BENCH_PG"' EXIT
	fi
}

# bench_database NAME: a fresh, migrated database; exports DATABASE_URL.
bench_database() {
	BENCH_DB="wfbench_$1"
	dropdb --if-exists "$BENCH_DB" 2>/dev/null
	createdb "$BENCH_DB"
	export DATABASE_URL="postgresql:///$BENCH_DB?host=$PGHOST&port=$PGPORT&user=$PGUSER"
	"$COORDINATOR" migrate >/dev/null 2>&1 || { echo "migrate failed" >&2; exit 1; }
}

bench_sql() {
	psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$BENCH_DB" "$@"
}

# bench_workflow NAME DEFINITION_JSON: stores a validated workflow.
bench_workflow() {
	bench_sql -v name="$1" -v def="$2" <<'SQL'
BEGIN;
SET LOCAL wf.validated = 'on';
INSERT INTO workflow (name, definition, valid) VALUES (:'name', :'def'::jsonb, true);
COMMIT;
SQL
}

# bench_wait SQL EXPECTED TIMEOUT_S: polls a one-value query until it returns EXPECTED.
bench_wait() {
	local deadline=$((SECONDS + $3))
	while [ "$(bench_sql -c "$1")" != "$2" ]; do
		[ $SECONDS -lt $deadline ] || { echo "timed out waiting for: $1" >&2; return 1; }
		sleep 0.05
	done
}

now_s() { date +%s.%N; }
