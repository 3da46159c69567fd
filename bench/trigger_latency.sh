#!/usr/bin/env bash
# bench/trigger_latency.sh [INSERTS] [INTERVAL_MS] [PROCESSES]
#
# From a trigger row's INSERT to its first email: INSERTS subscriptions
# inserted one at a time every INTERVAL_MS, with the coordinator's poll at
# 60 s so only NOTIFY counts, and a pool of PROCESSES. Latency = when the
# email's log row committed (its transaction's commit timestamp; the row's
# created_at where the cluster does not track them) minus the subscription's
# created_at (its INSERT's start). Then 10,000 rows inserted in one
# statement: the time until every one has its first email committed.
set -euo pipefail
inserts=${1:-200}
interval=${2:-50}
procs=${3:-2}
bulk=${4:-10000}
. "$(dirname "$0")/lib.sh"
bench_build
bench_cluster
bench_database latency

bench_workflow bench_first_mail '{"trigger":{"source":"subscription","priority":1000},"start":"hello","nodes":{"hello":{"type":"action","action":"send_email","template":"generic_welcome"}}}'
bench_sql -c "INSERT INTO dummy_users (email) SELECT 'test-lat-' || g || '@example.com' FROM generate_series(1, $inserts + $bulk) g" >/dev/null
bench_sql -c "VACUUM ANALYZE" >/dev/null

export PORT=0 BATCH_INTERVAL_MS=60000 WORKER_POLL_MS=60000 LOG_LEVEL=warn EMAIL_MODE=mock
"$COORDINATOR" 2>/dev/null &
coordinator=$!
WORKER_PROCESSES=$procs "$WORKER" 2>/dev/null &
pool=$!
bench_wait_engine "$procs"
sleep 1

# One INSERT every INTERVAL_MS, each its own transaction, from one session.
python3 - "$inserts" "$interval" <<'PY' | "$bench_psql" -X -q -d "$BENCH_DB" >/dev/null
import sys
n, ms = int(sys.argv[1]), int(sys.argv[2])
for i in range(1, n + 1):
    print("INSERT INTO dummy_subscriptions (user_id, subscription_type_id) VALUES (%d, 3);" % i)
    print("SELECT pg_sleep(%f);" % (ms / 1000.0))
PY
bench_wait "SELECT count(*) FROM email_logs" "$inserts" 60
single=$(bench_sql -c "
WITH l AS (
    SELECT extract(epoch FROM CASE WHEN current_setting('track_commit_timestamp') = 'on'
                                   THEN pg_xact_commit_timestamp(m.xmin) ELSE m.created_at END
                              - s.created_at) * 1000 AS ms
    FROM dummy_subscriptions s
    JOIN workflow_executions e ON e.trigger_table = 'dummy_subscriptions' AND e.trigger_id = s.id
    JOIN email_logs m ON m.execution_id = e.id)
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ' ||
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ' ||
       round(max(ms)::numeric, 2) FROM l")

start=$(now_s)
bench_sql -c "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)
              SELECT id, 3 FROM dummy_users WHERE id > $inserts" >/dev/null
bench_wait "SELECT count(*) FROM email_logs" "$((inserts + bulk))" 600 "$BENCH_END_POLL_S"
end=$(bench_commit_end email_logs created_at)
kill -TERM "$coordinator" "$pool"
wait "$coordinator" "$pool" 2>/dev/null || true

python3 - "$inserts" "$interval" "$procs" "$single" "$bulk" "$start" "$end" <<'PY'
import json, sys
p50, p99, mx = map(float, sys.argv[4].split())
secs = float(sys.argv[7]) - float(sys.argv[6])
print(json.dumps({"bench": "trigger_latency", "inserts": int(sys.argv[1]), "interval_ms": int(sys.argv[2]),
                  "processes": int(sys.argv[3]), "p50_ms": p50, "p99_ms": p99, "max_ms": mx,
                  "bulk_rows": int(sys.argv[5]), "bulk_seconds_to_first_emails": round(secs, 3)}))
PY
