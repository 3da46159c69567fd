#!/usr/bin/env bash
# bench/step_lateness.sh [STEPS] [SPREAD_S] [PROCESSES] [WAITING]
#
# Delay lateness: how late delays resume after they end. STEPS executions
# of a workflow whose first node is a delay until a time in their context
# are started through the engine; their delays end at times spread evenly
# over SPREAD_S seconds, the first LEAD_S seconds (default 5) after they are
# created. WAITING more executions wait in the same delay, thirty days out,
# written in bulk as the engine's delay outcome leaves them. A pool of
# PROCESSES runs them with the safety-net poll at 60 s, so only its wake
# timer and NOTIFY count.
#
# Lateness = the delay's resumed_at minus its resume_at. resumed_at is the
# start of the transaction that records the resume step, which begins once
# the step has been claimed, committed and run: the delay's row is marked
# over then, and the step has run by then. claimed_* is the same up to the
# history row delayed -> running, written when the step is claimed, before
# it runs.
set -euo pipefail
steps=${1:-1000}
spread=${2:-10}
procs=${3:-2}
waiting=${4:-0}
lead=${LEAD_S:-5}
case $lead in '' | *[!0-9]*) echo "LEAD_S must be whole seconds" >&2; exit 1 ;; esac
. "$(dirname "$0")/lib.sh"
bench_build
bench_cluster
bench_database lateness

bench_workflow tick '{"start": "wait", "nodes": {
    "wait": {"type": "delay", "until": {"var": "due"}, "next": "after"},
    "after": {"type": "noop"}}}'

if [ "$waiting" -gt 0 ]; then
	# The rows a real delay leaves: the execution delayed at its delay
	# node, its history (created, claimed, delayed), a waiting
	# workflow_delays row and a resume step due when the delay ends. The
	# ends are spread over a day, thirty days out: in the queue's index,
	# never due. The trigger that writes a new execution's first history
	# row is switched off for this one statement (it would write the
	# execution's status, delayed, where the engine's row says idle) and
	# that row is written here instead.
	bench_sql <<SQL >/dev/null
BEGIN;
CREATE TEMP TABLE bulk ON COMMIT DROP AS
SELECT wf_uuid7() AS id, g, r.resume_at,
       jsonb_build_object('resume_at', to_char(r.resume_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                          'nominal_seconds', extract(epoch FROM r.resume_at - now())::float8,
                          'scaled_seconds', extract(epoch FROM r.resume_at - now())::float8) AS result
FROM generate_series(1, $waiting) g,
     LATERAL (SELECT now() + interval '30 days' + make_interval(secs => 86400.0 * g / $waiting) AS resume_at) r;
ALTER TABLE workflow_executions DISABLE TRIGGER workflow_executions_created;
INSERT INTO workflow_executions (id, workflow_id, workflow_name, workflow_version, status, current_node,
                                 context, attempt, last_result)
SELECT b.id, w.id, w.name, w.version, 'delayed', 'wait',
       jsonb_build_object('bulk', b.g, 'due', to_char(b.resume_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
       1, b.result
FROM bulk b, workflow w WHERE w.name = 'tick';
ALTER TABLE workflow_executions ENABLE TRIGGER workflow_executions_created;
INSERT INTO wf_history (execution_id, latest_at, node_id, from_status, to_status, attempt, result, error, created_at)
SELECT b.id, now(), '{wait,wait,wait}', '{NULL,idle,running}', '{idle,running,delayed}', '{0,1,1}',
       ARRAY[NULL, NULL, b.result], '{NULL,NULL,NULL}', ARRAY[now(), now(), now()]
FROM bulk b;
INSERT INTO workflow_delays (execution_id, node_id, resume_at, nominal_seconds, scaled_seconds)
SELECT b.id, 'wait', b.resume_at, (b.result ->> 'nominal_seconds')::float8, (b.result ->> 'scaled_seconds')::float8
FROM bulk b;
INSERT INTO wf_steps (execution_id, node_id, kind, run_at, claims)
SELECT b.id, 'wait', 'resume', b.resume_at, 1 FROM bulk b;
COMMIT;
SQL
fi
# The bulk load vacuumed, analyzed and checkpointed, so that its checkpoint
# does not run into the measured window.
bench_settle

DELAY_SCALE=1 WORKER_PROCESSES=$procs WORKER_POLL_MS=60000 LOG_LEVEL=warn "$WORKER" 2>/dev/null &
pool=$!
bench_wait "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
            AND application_name LIKE 'wf-worker %/%'" "$procs" 30

# Started by the engine: the pool runs each delay node, which parks its
# execution until the time in its context. The ids are kept in a small
# table, so that the polls below look up STEPS rows by index.
bench_sql -c "CREATE TABLE bench_measured AS
              SELECT c.execution_id FROM generate_series(1, $steps) g,
              LATERAL wf_execution_create('tick', jsonb_build_object('n', g, 'due',
                  to_char((now() + make_interval(secs => $lead + $spread * (g - 1) / $steps::float8))
                          AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))) c" >/dev/null
bench_wait "SELECT count(*) FROM bench_measured JOIN workflow_delays USING (execution_id)" "$steps" $((lead + 60)) 0.2
# The measured window holds nothing but the resumes: every delay parked
# before the first one ends.
if [ "$(bench_sql -c "SELECT max(created_at) < min(resume_at) FROM bench_measured
                      JOIN workflow_delays USING (execution_id)")" != t ]; then
	echo "the delays were not all parked before the first one ended: raise LEAD_S (now $lead)" >&2
	kill -TERM "$pool"; wait "$pool" || true
	exit 1
fi
# No poll during the window: the end is only looked for once the last delay
# has ended, then every BENCH_END_POLL_S, with STEPS index lookups (a
# finished execution has no step left).
sleep "$(bench_sql -c "SELECT greatest(0, extract(epoch FROM max(resume_at) - clock_timestamp()))
                       FROM bench_measured JOIN workflow_delays USING (execution_id)")"
bench_wait "SELECT NOT EXISTS (SELECT 1 FROM bench_measured JOIN wf_steps USING (execution_id))" t 60 \
	"$BENCH_END_POLL_S"
kill -TERM "$pool"; wait "$pool" || true

bench_sql -c "
WITH late AS (
    SELECT extract(epoch FROM d.resumed_at - d.resume_at) * 1000 AS ms,
           extract(epoch FROM h.claimed_at - d.resume_at) * 1000 AS claimed_ms
    FROM bench_measured m
    JOIN workflow_executions e ON e.id = m.execution_id AND e.status = 'completed'
    JOIN workflow_delays d ON d.execution_id = m.execution_id AND d.status = 'resumed'
    CROSS JOIN LATERAL (
        SELECT min(created_at) AS claimed_at FROM workflow_execution_history
        WHERE execution_id = m.execution_id AND from_status = 'delayed' AND to_status = 'running') h)
SELECT json_build_object('bench', 'step_lateness', 'steps', $steps, 'spread_s', $spread,
                         'processes', $procs, 'waiting', $waiting, 'lead_s', $lead,
                         'p50_ms', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
                         'p99_ms', round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2),
                         'max_ms', round(max(ms)::numeric, 2),
                         'claimed_p50_ms', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY claimed_ms)::numeric, 2),
                         'claimed_p99_ms', round(percentile_cont(0.99) WITHIN GROUP (ORDER BY claimed_ms)::numeric, 2),
                         'claimed_max_ms', round(max(claimed_ms)::numeric, 2),
                         'early', count(*) FILTER (WHERE ms < 0 OR claimed_ms < 0), 'measured', count(*),
                         'still_waiting', (SELECT count(*) FROM workflow_delays WHERE status = 'waiting'))
FROM late"
