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
	# Commit timestamps give the benchmarks their end (bench_commit_end).
	local options="-c track_commit_timestamp=on"

	case ${STATEMENTS:-0} in 0 | 1) ;; *) echo "STATEMENTS is 0 or 1, not $STATEMENTS" >&2; exit 2 ;; esac
	[ "${STATEMENTS:-0}" = 1 ] &&
		options="$options -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
	if [ -z "${PGHOST:-}" ]; then
		BENCH_PG=$(mktemp -d /tmp/wf-bench-pg.XXXXXX)
		chmod 755 "$BENCH_PG"
		WF_PG_OPTIONS=$options wf_pg_start "$BENCH_PG"
		trap 'wf_pg_stop "$BENCH_PG"; rm -rf "$BENCH_PG"' EXIT
		bench_warm_cluster
	elif [ "${STATEMENTS:-0}" = 1 ] &&
		! "$bench_psql" -X -q -t -A -d postgres -c "SHOW shared_preload_libraries" | grep -q pg_stat_statements; then
		echo "STATEMENTS=1 needs pg_stat_statements in the shared_preload_libraries of the cluster PGHOST names" \
			"(or PGHOST unset, for a private cluster that loads it)" >&2
		exit 2
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

# bench_statements_reset: with STATEMENTS=1, counts the statements of the
# bench database from here on (pg_stat_statements, statements inside
# functions included); call it right before the clock starts.
bench_statements_reset() {
	[ "${STATEMENTS:-0}" = 1 ] || return 0
	bench_sql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
		-c "SELECT pg_stat_statements_reset()" >/dev/null
}

# bench_statements_top COUNT PER: with STATEMENTS=1, the COUNT statements of
# the bench database that took the longest since bench_statements_reset, as
# a JSON array: calls, rows, total ms, µs per PER (the run's executions),
# whether the client sent it (toplevel; a function's time includes its
# statements') and its text, whitespace folded. Elapsed time, not CPU: a
# statement that waits for a lock or a core counts its wait. The time to
# parse a statement's parameters (a round's outcomes, a jsonb) is not in
# it. Otherwise null.
bench_statements_top() {
	if [ "${STATEMENTS:-0}" != 1 ]; then
		echo null
		return
	fi
	bench_sql -v n="$1" -v per="$2" <<'SQL'
SELECT coalesce(json_agg(s ORDER BY s.ms DESC), '[]')
FROM (SELECT calls, rows, round(total_exec_time::numeric, 1) AS ms,
             round((total_exec_time * 1000 / :per)::numeric, 1) AS us_per_execution, toplevel,
             jit_functions, round((jit_generation_time + jit_inlining_time + jit_optimization_time
                                   + jit_emission_time)::numeric, 1) AS jit_ms,
             left(regexp_replace(query, '\s+', ' ', 'g'), 240) AS query
      FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY total_exec_time DESC
      LIMIT :n) s
SQL
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
# BENCH_SETTLE_VACUUM=0 analyzes without vacuuming: bloat.sh sets it for
# both of its runs, since a VACUUM would remove the dead rows and index
# entries that an aged database (bench_age) is there to carry; those are
# left to the engine's sweeper and to autovacuum, as on a live engine.
bench_settle() {
	if [ "${BENCH_SETTLE_VACUUM:-1}" = 0 ]; then
		bench_sql -c "ANALYZE" >/dev/null
	else
		bench_sql -c "VACUUM ANALYZE" >/dev/null
	fi
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
# WORKFLOW. With STATUS 'idle' they are written straight into the tables
# (history row included), each with a queued step due at RUN_AT_SQL
# (default: in 30 days): the quick way to a million waiting executions.
# With STATUS 'completed' they are aged through the engine's own paths
# (bench_age), history and emails included.
bench_bulk_executions() {
	local workflow=$1 count=$2 status=$3 run_at=${4:-"now() + interval '30 days'"}
	if [ "$status" = completed ]; then
		bench_age "$workflow" "$count"
		return
	fi
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

# bench_bulk_history: nothing now. It added the history and emails of the
# executions that bench_bulk_executions wrote finished; bench_age writes
# those itself. Kept so that callers of the two steps still work.
bench_bulk_history() {
	:
}

# bench_age WORKFLOW COUNT: the database as COUNT executions of WORKFLOW (a
# line of send_email actions, the workflow of throughput.sh) leave it when
# the engine runs them, with no engine running: in chunks of
# BENCH_AGE_CHUNK (default 10,000, the size of a timed run's burst), trigger
# rows go through the same statements as in a live engine. Each chunk's
# subscriptions are inserted unprocessed, subscribed by the users already
# there in turn (no new users: the timed run's INSERT subscribes every user;
# at least one is needed); the coordinator's function
# wf_trigger_rows_start (sql/020) starts their executions, queues their
# steps in wf_steps and marks the rows processed by an UPDATE; the worker's
# wf_steps_record_locked (sql/017) records each step with its whole line of
# emails, as a round does: the execution completed, the step deleted, the
# history (8 rows for 3 emails) and one email_logs row per email (mock, sent,
# subject 'bulk', which throughput.sh leaves out of its count of the timed
# run's emails). So wf_steps has had COUNT rows inserted and deleted,
# dummy_subscriptions holds COUNT processed rows updated once each, and
# workflow_executions' rows were updated once, in separate transactions as
# in the engine. After each chunk's start and after its record, the
# coordinator sweeper's statements run, as a live engine runs them every
# second: wf_analyze_grown_tables() (without it, wf_steps_record_locked
# plans a chunk's 10,000 steps for the empty queue the last VACUUM saw, and
# its join of them with the queue turns quadratic) and VACUUM (SKIP_LOCKED)
# wf_steps. After the last chunk they do not (the engine's sweeper runs
# them once it starts), and no other table is vacuumed here: their dead
# rows are left to autovacuum, as on a live engine.
bench_age() {
	local workflow=$1 count=$2 chunk=${BENCH_AGE_CHUNK:-10000} left sql n
	# The coordinator sweeper's statements of every second (coordinator.c).
	local sweep="SELECT wf_analyze_grown_tables();
VACUUM (SKIP_LOCKED) wf_steps;"
	sql=$(mktemp /tmp/wf-bench-age.XXXXXX.sql)
	cat >"$sql" <<'SQL'
SET jit = off;  -- each statement runs once per chunk; compiling it costs more than it saves
-- The workflow's line of nodes; each must be a send_email action.
CREATE TEMP TABLE bench_line AS
WITH RECURSIVE line(pos, node) AS (
    SELECT 1, w.definition ->> 'start' FROM workflow w WHERE w.name = :'workflow'
    UNION ALL
    SELECT l.pos + 1, w.definition -> 'nodes' -> l.node ->> 'next'
    FROM line l, workflow w
    WHERE w.name = :'workflow' AND w.definition -> 'nodes' -> l.node ->> 'next' IS NOT NULL AND l.pos < 100)
SELECT l.pos, l.node, w.definition -> 'nodes' -> l.node ->> 'next' AS next,
       w.definition -> 'nodes' -> l.node ->> 'template' AS template,
       (w.definition -> 'nodes' -> l.node ->> 'action') IS NOT DISTINCT FROM 'send_email' AS email
FROM line l, workflow w WHERE w.name = :'workflow';
CREATE TEMP TABLE bench_users AS
SELECT array_agg(u.id ORDER BY u.id) AS ids, count(*) AS n FROM dummy_users u;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bench_line) OR EXISTS (SELECT 1 FROM bench_line WHERE NOT email) THEN
        RAISE EXCEPTION 'bench_age: the workflow is not a line of send_email actions';
    END IF;
    IF (SELECT n FROM bench_users) = 0 THEN
        RAISE EXCEPTION 'bench_age: the subscriptions need users (bench_users first)';
    END IF;
END $$;
SQL
	left=$count
	while [ "$left" -gt 0 ]; do
		n=$((left < chunk ? left : chunk))
		left=$((left - n))
		cat >>"$sql" <<SQL
INSERT INTO dummy_subscriptions (user_id, subscription_type_id)
SELECT b.ids[1 + g % b.n], (SELECT id FROM dummy_subscription_types WHERE name = 'basic')
FROM bench_users b, generate_series(1, $n) g;
-- The coordinator's claim (the unprocessed rows, oldest first) and start.
BEGIN;
SELECT wf_trigger_rows_start('dummy_subscriptions', jsonb_agg(jsonb_build_object('id', s.id, 'workflow', :'workflow')))
FROM (SELECT id FROM dummy_subscriptions WHERE NOT processed ORDER BY id LIMIT $n FOR UPDATE SKIP LOCKED) s;
COMMIT;
$sweep
-- A worker's round: each step run with its line of emails in hops. Built
-- row by row (a lateral over the line's few nodes), so that its plan does
-- not hang on the queue's statistics: a join of whole sets, planned for the
-- empty queue the last VACUUM saw, turned quadratic.
BEGIN;
SELECT cardinality(wf_steps_record_locked(jsonb_agg(jsonb_build_object(
           'step', s.id, 'status', e.status, 'outcome', 'next', 'next', n.nodes -> 0 -> 'next',
           'result', n.nodes -> 0 -> 'result', 'logs', n.nodes -> 0 -> 'logs',
           'then', CASE WHEN jsonb_array_length(n.nodes) > 1 THEN n.nodes - 0 END) ORDER BY s.id)))
FROM wf_steps s
JOIN workflow_executions e ON e.id = s.execution_id
CROSS JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object(
               'node', l.node, 'next', l.next,
               'result', jsonb_build_object('to', e.context #>> '{user,email}',
                                            'subject', 'Welcome to ' || (e.context #>> '{subscription_type,name}')
                                                       || ', ' || (e.context #>> '{user,name}'),
                                            'message_id', e.id || '.' || l.node || '@example.com'),
               'logs', jsonb_build_array(jsonb_build_object('email_log', jsonb_build_object(
                   'recipient', e.context #>> '{user,email}', 'subject', 'bulk', 'template', l.template,
                   'status', 'sent', 'mode', 'mock', 'message_id', e.id || '.' || l.node || '@example.com'))))
               ORDER BY l.pos) AS nodes
    FROM bench_line l) n
WHERE s.status = 'ready';
COMMIT;
SQL
		if [ "$left" -gt 0 ]; then
			echo "$sweep" >>"$sql"
		fi
	done
	bench_sql -v workflow="$workflow" -f "$sql" >/dev/null || { rm -f "$sql"; echo "ageing the database failed" >&2; return 1; }
	rm -f "$sql"
	n=$(bench_sql -c "SELECT count(*) FROM workflow_executions WHERE status = 'completed' AND workflow_name = '$workflow'")
	[ "$n" -ge "$count" ] || { echo "ageing completed $n executions of $count" >&2; return 1; }
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
