#!/usr/bin/env bash
# bench/step_lateness.sh [STEPS] [SPREAD_S] [PROCESSES] [WAITING]
#
# How late steps start: STEPS executions whose first step falls due at times
# spread evenly over SPREAD_S seconds (starting 3 s from now), with WAITING
# more executions parked far in the future, run by a pool of PROCESSES with
# the safety-net poll at 60 s, so only NOTIFY and the wake timer count.
# Lateness = when the step was claimed minus when it was due.
set -euo pipefail
steps=${1:-1000}
spread=${2:-10}
procs=${3:-2}
waiting=${4:-0}
. "$(dirname "$0")/lib.sh"
bench_build
bench_cluster
bench_database lateness

bench_workflow tick '{"start":"a","nodes":{"a":{"type":"noop"}}}'
# Created unstarted (run_at = infinity), then given their due times in one go.
bench_sql -c "SELECT count(*) FROM generate_series(1, $steps) g,
              LATERAL wf_execution_create('tick', jsonb_build_object('n', g), p_start => false)" >/dev/null
if [ "$waiting" -gt 0 ]; then
	# Parked thirty days out: they are in the queue's index, never due.
	bench_bulk_executions tick "$waiting" idle
fi
bench_sql -c "VACUUM ANALYZE" >/dev/null

WORKER_PROCESSES=$procs WORKER_POLL_MS=60000 LOG_LEVEL=warn "$WORKER" 2>/dev/null &
pool=$!
sleep 1
bench_sql -c "UPDATE wf_steps s SET run_at = now() + interval '3 seconds'
                  + make_interval(secs => $spread * ((e.context->>'n')::int - 1) / $steps::float8)
              FROM workflow_executions e WHERE e.id = s.execution_id AND e.context ? 'n'" >/dev/null
# The due time is kept for the measurement before the row is consumed.
bench_sql -c "CREATE TABLE bench_due AS SELECT execution_id, run_at FROM wf_steps s
              JOIN workflow_executions e ON e.id = s.execution_id WHERE e.context ? 'n'" >/dev/null
bench_wait "SELECT count(*) FROM workflow_executions WHERE context ? 'n' AND status <> 'completed'" 0 $((spread + 60))
kill -TERM "$pool"; wait "$pool" || true

bench_sql -c "
WITH late AS (
    SELECT extract(epoch FROM h.created_at - d.run_at) * 1000 AS ms
    FROM bench_due d JOIN workflow_execution_history h USING (execution_id)
    WHERE h.from_status = 'idle' AND h.to_status = 'running')
SELECT json_build_object('bench', 'step_lateness', 'steps', $steps, 'spread_s', $spread,
                         'processes', $procs, 'waiting', $waiting,
                         'p50_ms', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
                         'p99_ms', round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2),
                         'max_ms', round(max(ms)::numeric, 2),
                         'early', count(*) FILTER (WHERE ms < 0), 'measured', count(*))
FROM late"
