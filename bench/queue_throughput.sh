#!/usr/bin/env bash
# bench/queue_throughput.sh [STEPS] [PROCESSES] [STEPS_PER_EXECUTION]
#
# Steps/s of the step queue: STEPS noop steps (STEPS / STEPS_PER_EXECUTION
# executions of a workflow of that many noop nodes), already enqueued, run
# by one wf-worker pool with PROCESSES children. The clock runs from the
# pool's start to the commit of the last execution's completion.
# NODE=email makes every node a mock email instead (the workflow of
# bench/throughput.sh): with the executions created before the clock, what
# is left is the workers' part of that benchmark, and the difference
# between the two is what creating the executions from trigger rows costs.
set -euo pipefail
steps=${1:-20000}
procs=${2:-2}
per=${3:-1}
node=${NODE:-noop}
case "$node" in
noop) node_json='"type":"noop"' ;;
email) node_json='"type":"action","action":"send_email","template":"generic_welcome"' ;;
*) echo "NODE is noop or email, not $node" >&2; exit 2 ;;
esac
. "$(dirname "$0")/lib.sh"
bench_build
bench_cluster
bench_database queue

nodes=""
for i in $(seq 1 "$per"); do
	next=$([ "$i" -lt "$per" ] && echo "\"n$((i + 1))\"" || echo null)
	nodes="$nodes${nodes:+,}\"n$i\":{$node_json,\"next\":$next}"
done
bench_workflow noop "{\"start\":\"n1\",\"nodes\":{$nodes}}"
executions=$((steps / per))
# Each context has the user an email goes to; a noop ignores it.
bench_sql -c "SELECT count(wf_execute('noop', jsonb_build_object('user', jsonb_build_object(
                  'email', 'test-queue-' || g || '@example.com', 'name', 'Queue ' || g))))
              FROM generate_series(1, $executions) g" >/dev/null
bench_settle

start=$(now_s)
WORKER_PROCESSES=$procs LOG_LEVEL=warn "$WORKER" 2>/dev/null &
pool=$!
bench_wait "SELECT count(*) FROM workflow_executions WHERE status <> 'completed'" 0 600 "$BENCH_END_POLL_S"
end=$(bench_commit_end workflow_executions completed_at)
kill -TERM "$pool"; wait "$pool" || true

python3 - "$steps" "$procs" "$per" "$executions" "$start" "$end" "$node" <<'PY'
import json, sys
steps, procs, per, execs = map(int, sys.argv[1:5])
secs = float(sys.argv[6]) - float(sys.argv[5])
print(json.dumps({"bench": "queue_throughput", "node": sys.argv[7], "steps": steps, "processes": procs,
                  "steps_per_execution": per, "seconds": round(secs, 3),
                  "steps_per_s": round(steps / secs, 1), "executions_per_s": round(execs / secs, 1)}))
PY
