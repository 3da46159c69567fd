#!/usr/bin/env bash
# bench/creation.sh [EXECUTIONS]
#
# The creation half of the throughput run: EXECUTIONS subscriptions inserted
# by one SQL statement, turned into executions (each with its first step
# queued) by a coordinator alone, no worker running. The clock runs from the
# INSERT to the commit of the last execution (bench_commit_end). Reports executions/s and
# cpu_s: the CPU seconds of the coordinator and of each server session, by
# application_name (bench_cpu_snapshot in lib.sh). RULE=1 gives the workflow
# a trigger rule (true for every row), so the coordinator reads every
# row's context to test it; without one no context leaves the database.
# STATEMENTS=1 adds "statements", as in throughput.sh.
# queue_throughput.sh with NODE=email measures the other half.
set -euo pipefail
executions=${1:-10000}
rule=${RULE:-0}
. "$(dirname "$0")/lib.sh"
bench_build
bench_cluster
bench_database creation

trigger='"source":"subscription","priority":1000'
[ "$rule" = 1 ] && trigger="$trigger,\"rule\":{\"!=\":[{\"var\":\"user.email\"},\"\"]}"
bench_workflow bench_mail "{\"trigger\":{$trigger},\"start\":\"m1\",
  \"nodes\":{\"m1\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":null}}}"
bench_users "$executions"
bench_settle

export PORT=0 BATCH_INTERVAL_MS=60000 LOG_LEVEL=warn
"$COORDINATOR" 2>/dev/null &
coordinator=$!
bench_wait_coordinator

bench_statements_reset
cpu_before=$(bench_cpu_snapshot "$coordinator" "$coordinator")
start=$(now_s)
bench_subscribe_users
bench_wait "SELECT NOT EXISTS (SELECT 1 FROM dummy_subscriptions WHERE NOT processed)" t 1200 "$BENCH_END_POLL_S"
cpu_after=$(bench_cpu_snapshot "$coordinator" "$coordinator")
end=$(bench_commit_end workflow_executions created_at)
kill -TERM "$coordinator"
wait "$coordinator" 2>/dev/null || true
created=$(bench_sql -c "SELECT count(*) FROM workflow_executions e JOIN wf_steps s ON s.execution_id = e.id")
[ "$created" = "$executions" ] || { echo "only $created executions were created with their step" >&2; exit 1; }

cpu_split=$(bench_cpu_split "$cpu_before" "$cpu_after")
statements=$(bench_statements_top 25 "$executions")
python3 - "$executions" "$start" "$end" "$rule" "$cpu_split" "$statements" <<'PY'
import json, sys
statements = json.loads(sys.argv[6])  # null without STATEMENTS=1
n = int(sys.argv[1])
secs = float(sys.argv[3]) - float(sys.argv[2])
cpu = json.loads(sys.argv[5])
cpu.pop("worker_children", None)  # no pool runs here
print(json.dumps({"bench": "creation", "executions": n, "rule": sys.argv[4] == "1",
                  "seconds": round(secs, 3), "executions_per_s": round(n / secs, 1), "cpu_s": cpu,
                  **({} if statements is None else {"statements": statements})}))
PY
