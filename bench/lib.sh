# bench/lib.sh - shared set-up of the benchmark commands (source it).
#
# Each benchmark runs against a fresh database on the cluster named by
# PGHOST/PGPORT/PGUSER, or, when PGHOST is unset, on a private cluster it
# starts in a temporary folder with PostgreSQL's default durability
# settings. Binaries come from BUILD_DIR (default: build-release, built with
# buildtype=release when missing, and brought up to date before each run;
# BENCH_PREBUILT=1 takes BUILD_DIR's binaries as they are, as the bench
# suite of the tests does with the build under test).

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$bench_root/deploy/lib.sh"

BUILD_DIR=${BUILD_DIR:-$bench_root/build-release}

# psql itself, not Debian's wrapper in PATH: the wrapper is a Perl script
# that adds about 30 ms of CPU and 30 ms of waiting to each call, and a
# timed run's clock starts before the psql of its INSERT does (and its
# first poll runs while the engine works).
bench_psql=$WF_PG_BIN/psql
[ -x "$bench_psql" ] || bench_psql=psql

bench_build() {
	if [ -z "${BENCH_PREBUILT:-}" ]; then
		if [ ! -f "$BUILD_DIR/build.ninja" ]; then
			meson setup "$BUILD_DIR" "$bench_root" --buildtype=release -Dtests=disabled >/dev/null
		fi
		meson compile -C "$BUILD_DIR" >/dev/null
	fi
	COORDINATOR=$BUILD_DIR/coordinator/wf-coordinator
	WORKER=$BUILD_DIR/worker/wf-worker
}

bench_cluster() {
	if [ -z "${PGHOST:-}" ]; then
		BENCH_PG=$(mktemp -d /tmp/wf-bench-pg.XXXXXX)
		chmod 755 "$BENCH_PG"
		# Commit timestamps give the benchmarks their end (bench_commit_end).
		WF_PG_OPTIONS="-c track_commit_timestamp=on" wf_pg_start "$BENCH_PG"
		trap 'wf_pg_stop "$BENCH_PG"; rm -rf "$BENCH_PG"' EXIT
		bench_warm_cluster
	fi
}

# bench_warm_cluster: has the new cluster use every page of its shared
# memory once, as a server that has been up for a while has. Without huge
# pages the kernel hands each 4 kB page of it over on its first use,
# zero-filled, and a fresh cluster's first pass through its buffers pays
# that, which a measurement would otherwise count. A table larger than
# shared_buffers, read into them, then dropped.
bench_warm_cluster() {
	"$bench_psql" -X -q -d postgres -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
CREATE UNLOGGED TABLE bench_warm AS
SELECT repeat('w', 1800) AS filler FROM generate_series(1, (SELECT setting::bigint * 4 * 9 / 8 FROM pg_settings WHERE name = 'shared_buffers'));
SELECT pg_prewarm('bench_warm', 'buffer');
DROP TABLE bench_warm;
DROP EXTENSION pg_prewarm;
SQL
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
	"$bench_psql" -X -q -t -A -v ON_ERROR_STOP=1 -d "$BENCH_DB" "$@"
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

# bench_wait SQL EXPECTED TIMEOUT_S [POLL_S]: polls a one-value query until
# it returns EXPECTED, every POLL_S seconds (default 0.05). A timed run polls
# slowly, every BENCH_END_POLL_S (each poll is a new psql and a new backend,
# ~30 ms of CPU taken from the engine, and a scan), and takes its end from
# the rows' own timestamps (bench_epoch).
BENCH_END_POLL_S=2
bench_wait() {
	local deadline=$((SECONDS + $3))
	while [ "$(bench_sql -c "$1")" != "$2" ]; do
		[ $SECONDS -lt $deadline ] || { echo "timed out waiting for: $1" >&2; return 1; }
		sleep "${4:-0.05}"
	done
}

# bench_wait_coordinator: until the coordinator's listener is connected.
bench_wait_coordinator() {
	bench_wait "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
	            AND application_name = 'wf-coordinator listen'" 1 30
}

# bench_wait_engine PROCESSES: until the pool's PROCESSES children (named
# "wf-worker HOST/SLOT"; the pool's own connection, "wf-worker pool", opens
# later and is not one of them) and the coordinator's listener are connected.
bench_wait_engine() {
	bench_wait "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
	            AND application_name LIKE 'wf-worker %/%'" "$1" 30
	bench_wait_coordinator
}

# bench_users N: N test users, each to be subscribed by bench_subscribe_users.
bench_users() {
	bench_sql -c "INSERT INTO dummy_users (email, name) SELECT 'test-bench-' || g || '@example.com', 'Bench ' || g
	              FROM generate_series(1, $1) g" >/dev/null
}

# bench_subscribe_users: every user subscribes to 'basic', in one INSERT
# (the statement the timed throughput and creation runs start with).
bench_subscribe_users() {
	bench_sql -c "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)
	              SELECT u.id, (SELECT id FROM dummy_subscription_types WHERE name = 'basic') FROM dummy_users u" >/dev/null
}

# bench_settle: the setup's rows vacuumed and analyzed, and written out by a
# checkpoint, before the clock starts, so the run does not pay for the
# setup's checkpoint (an aged database's bulk load writes gigabytes of WAL;
# the first change to each page after a checkpoint logs the whole page).
bench_settle() {
	bench_sql -c "VACUUM ANALYZE" >/dev/null
	bench_sql -c "CHECKPOINT" >/dev/null
}

# bench_epoch SQL: the timestamp a query returns, in seconds since the epoch
# (the database runs on this host, so it compares with now_s).
bench_epoch() {
	bench_sql -c "SELECT extract(epoch FROM ($1))"
}

now_s() { date +%s.%N; }

# bench_commit_end TABLE COLUMN: when the last write to TABLE committed, in
# epoch seconds. A row's time columns are now() (its transaction's start,
# before the work and the commit's WAL flush), so a clock that stopped at
# max(COLUMN) would leave the last transaction out; the commit time of the
# newest row version (xmin) does not. A cluster without
# track_commit_timestamp (PGHOST given) falls back to max(COLUMN).
bench_commit_end() {
	bench_epoch "CASE WHEN current_setting('track_commit_timestamp') = 'on'
	                  THEN (SELECT max(pg_xact_commit_timestamp(xmin)) FROM $1)
	                  ELSE (SELECT max($2) FROM $1) END"
}

# bench_huge_pages_mb: the huge pages in use or reserved on this host, in
# MB; above 0 while a cluster here runs on them (docs/operations.md).
bench_huge_pages_mb() {
	awk '/^HugePages_(Total|Free|Rsvd):/ { v[$1] = $2 } /^Hugepagesize:/ { kb = $2 }
	     END { printf "%d\n", (v["HugePages_Total:"] - v["HugePages_Free:"] + v["HugePages_Rsvd:"]) * kb / 1024 }' /proc/meminfo
}

# bench_bulk_executions WORKFLOW COUNT STATUS [RUN_AT_SQL]: COUNT executions of
# WORKFLOW written straight into the tables (history row included) — the
# quick way to a database that holds a million of them. With STATUS
# 'completed' they are finished; with 'idle' each also gets a queued step
# due at RUN_AT_SQL (default: in 30 days).
bench_bulk_executions() {
	local workflow=$1 count=$2 status=$3 run_at=${4:-"now() + interval '30 days'"}
	bench_sql <<SQL >/dev/null
BEGIN;
CREATE TEMP TABLE bulk ON COMMIT DROP AS
SELECT wf_uuid7() AS id, g FROM generate_series(1, $count) g;
INSERT INTO workflow_executions (id, workflow_id, workflow_name, workflow_version, status, current_node,
                                 context, created_at, completed_at)
SELECT b.id, w.id, w.name, w.version, '$status', w.definition ->> 'start',
       jsonb_build_object('bulk', b.g, 'user', jsonb_build_object('email', 'test-bulk-' || b.g || '@example.com')),
       now() - interval '1 day', CASE WHEN '$status' = 'completed' THEN now() END
FROM bulk b, workflow w WHERE w.name = '$workflow';
INSERT INTO wf_steps (execution_id, node_id, run_at)
SELECT b.id, w.definition ->> 'start', $run_at
FROM bulk b, workflow w WHERE w.name = '$workflow' AND '$status' = 'idle';
COMMIT;
SQL
}

# bench_bulk_history COUNT: COUNT finished executions' worth of history and
# email log rows (three transitions and one email each), for an aged database.
bench_bulk_history() {
	bench_sql <<SQL >/dev/null
INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, attempt, created_at)
SELECT e.id, 'm1', s.f, s.t, 1, e.created_at
FROM workflow_executions e,
     (VALUES (NULL, 'idle'), ('idle', 'running'), ('running', 'stepCompleted'), ('stepCompleted', 'completed')) s(f, t)
WHERE e.status = 'completed';
INSERT INTO email_logs (execution_id, node_id, recipient, subject, template, status, mode, created_at)
SELECT e.id, 'm1', e.context #>> '{user,email}', 'bulk', 'generic_welcome', 'sent', 'mock', e.created_at
FROM workflow_executions e WHERE e.status = 'completed';
SQL
}

# bench_cpu_snapshot COORDINATOR_PID POOL_PID: one JSON object of CPU
# seconds so far, from /proc: the machine (all cores), the coordinator,
# each worker child, and each server session of the database by its
# application_name (a name that several sessions share is summed). Two of
# them, taken around a timed run, are what bench_cpu_split reads. Server
# sessions are only found when the server runs on this host.
bench_cpu_snapshot() {
	local sessions
	sessions=$(bench_sql -F $'\t' -c "SELECT pid, application_name FROM pg_stat_activity
	                                   WHERE datname = current_database() AND pid <> pg_backend_pid()")
	python3 - "$1" "$2" "$sessions" <<'PY'
import json, os, sys
tick = os.sysconf('SC_CLK_TCK')
def cpu(pid):
    try:
        fields = open('/proc/%s/stat' % pid).read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick
    except (OSError, IndexError, ValueError):
        return 0.0
def children(pid):
    try:
        return open('/proc/%s/task/%s/children' % (pid, pid)).read().split()
    except OSError:
        return []
machine = [int(x) for x in open('/proc/stat').readline().split()[1:]]
busy = (sum(machine) - machine[3] - machine[4]) / tick  # all but idle and iowait
sessions = {}
for line in sys.argv[3].splitlines():
    pid, _, name = line.partition('\t')
    sessions[name or '(unnamed)'] = sessions.get(name or '(unnamed)', 0) + cpu(pid)
print(json.dumps({"machine_busy": busy, "coordinator": cpu(sys.argv[1]),
                  "worker_children": {c: cpu(c) for c in children(sys.argv[2])},
                  "server_sessions": sessions}))
PY
}

# bench_cpu_split BEFORE AFTER: what the run between two snapshots cost,
# in CPU seconds, as one JSON object. A session that ended in between (the
# benchmark's own psql) counts in machine_busy only.
bench_cpu_split() {
	python3 - "$1" "$2" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
r = lambda x: round(x, 2)
print(json.dumps({
    "machine_busy": r(b["machine_busy"] - a["machine_busy"]),
    "coordinator": r(b["coordinator"] - a["coordinator"]),
    "worker_children": [r(v - a["worker_children"].get(k, 0)) for k, v in sorted(b["worker_children"].items())],
    "server_sessions": {k: r(v - a["server_sessions"].get(k, 0))
                        for k, v in sorted(b["server_sessions"].items()) if v - a["server_sessions"].get(k, 0) >= 0.005}}))
PY
}
