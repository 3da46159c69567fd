#!/usr/bin/env bash
# bench/throughput.sh [EXECUTIONS] [STEPS] [PROCESSES]
#
# End-to-end throughput: EXECUTIONS subscriptions inserted by one SQL
# statement start a workflow of STEPS mock emails each (routed by its
# trigger rule), run by a coordinator and one pool of PROCESSES children.
# The clock runs from the INSERT to the commit of the last completion
# (bench_commit_end in lib.sh). Also reports the
# peak RSS (VmHWM) of the coordinator and of each worker child, and the
# ratio of steps/s to the pgbench queue limit measured on the same cluster
# right after (bench/pgbench_limit.sh), and cpu_s: the CPU seconds the run
# cost the machine, the coordinator, each worker child and each server
# session, by application_name (bench_cpu_snapshot in lib.sh). AGED=N
# first fills the database with N finished executions and their history
# and emails (bench/bloat.sh).
# WARMUP=1 first runs the same EXECUTIONS once, untimed, through the same
# coordinator and pool, then empties the tables that run wrote (TRUNCATE,
# which hands their shared buffers back) and settles: the timed run then
# writes into buffers whose memory the engine's server sessions have
# already mapped, as on an engine that has been running for a while, where
# a fresh session maps each 4 kB page at its first touch
# (docs/performance.md). Not with AGED, whose rows it would empty.
# BENCH_PGBENCH_S (default 10) is how long the pgbench limit runs.
# EMAIL_MODE=smtp delivers every email over SMTP to the aiosmtpd test server
# on loopback (tests/support/smtp_server.py, discarding), instead of the mock
# mode's log row alone.
# STATEMENTS=1 adds "statements": where the server's time went, statement by
# statement (bench_statements_top in lib.sh). pg_stat_statements, which
# counts them, costs time of its own: such a run's other figures are not
# comparable with a plain run's.
set -euo pipefail
executions=${1:-10000}
steps=${2:-3}
procs=${3:-2}
email_mode=${EMAIL_MODE:-mock}
aged=${AGED:-0}
warmup=${WARMUP:-0}
case $warmup in 0 | 1) ;; *) echo "WARMUP is 0 or 1, not $warmup" >&2; exit 2 ;; esac
if [ "$warmup" = 1 ] && [ "$aged" -gt 0 ]; then
	echo "WARMUP=1 empties the tables between its two runs, so it cannot run with AGED" >&2
	exit 2
fi
unset EMAIL_MODE # until the SMTP server runs: migrate checks the settings
. "$(dirname "$0")/lib.sh"
bench_build
bench_cluster
bench_database throughput

nodes=""
for i in $(seq 1 "$steps"); do
	next=$([ "$i" -lt "$steps" ] && echo "\"m$((i + 1))\"" || echo null)
	nodes="$nodes${nodes:+,}\"m$i\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":$next}"
done
bench_workflow bench_mail "{\"trigger\":{\"source\":\"subscription\",\"priority\":1000},\"start\":\"m1\",\"nodes\":{$nodes}}"
bench_users "$executions"
if [ "$aged" -gt 0 ]; then
	bench_bulk_executions bench_mail "$aged" completed
	bench_bulk_history
fi
bench_settle

export PORT=0 BATCH_INTERVAL_MS=60000 LOG_LEVEL=warn EMAIL_MODE=$email_mode
smtp_server=""
if [ "$email_mode" = smtp ]; then
	smtp_dir=$(mktemp -d /tmp/wf-bench-smtp.XXXXXX)
	coproc SMTP { exec /usr/bin/python3 "$bench_root/tests/support/smtp_server.py" --dir "$smtp_dir" --discard --remove-dir; }
	smtp_server=$SMTP_PID
	read -r ready port <&"${SMTP[0]}"
	[ "$ready" = READY ] || { echo "the SMTP server did not start" >&2; exit 1; }
	export SMTP_HOST=127.0.0.1 SMTP_PORT=$port SMTP_TLS=off
fi
"$COORDINATOR" 2>/dev/null &
coordinator=$!
WORKER_PROCESSES=$procs "$WORKER" 2>/dev/null &
pool=$!
bench_wait_engine "$procs"

# Done when every row has started its execution and the queue is empty: a
# cheap test, where counting completed executions would scan the aged ones.
wait_drained() {
	bench_wait "SELECT NOT EXISTS (SELECT 1 FROM dummy_subscriptions WHERE NOT processed)
	                   AND NOT EXISTS (SELECT 1 FROM wf_steps)" t 1200 "$BENCH_END_POLL_S"
}
warmup_seconds=0
if [ "$warmup" = 1 ]; then
	warmup_start=$(now_s)
	bench_subscribe_users
	wait_drained
	warmup_seconds=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 3))" \
		"$warmup_start" "$(bench_commit_end workflow_executions completed_at)")
	bench_sql -c "TRUNCATE dummy_subscriptions, workflow_executions, wf_history, email_logs,
	                       wf_steps, workflow_delays, wf_dead_letters"
	bench_settle
fi

bench_statements_reset
cpu_before=$(bench_cpu_snapshot "$coordinator" "$pool")
start=$(now_s)
bench_subscribe_users
wait_drained
cpu_after=$(bench_cpu_snapshot "$coordinator" "$pool")
end=$(bench_commit_end workflow_executions completed_at)
completed=$(bench_sql -c "SELECT count(*) FROM workflow_executions WHERE status = 'completed'")
huge_mb=$(bench_huge_pages_mb)
[ "$completed" = "$((executions + aged))" ] || { echo "only $completed executions completed" >&2; exit 1; }

peak_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }
coordinator_kb=$(peak_kb "$coordinator")
children_kb=$(for c in $(cat "/proc/$pool/task/$pool/children" 2>/dev/null); do peak_kb "$c"; done | paste -sd, -)
kill -TERM "$coordinator" "$pool" $smtp_server
wait "$coordinator" "$pool" $smtp_server 2>/dev/null || true
emails=$(bench_sql -c "SELECT count(*) FROM email_logs WHERE subject <> 'bulk' AND status = 'sent' AND mode = '$email_mode'")
# As many pgbench clients as the pool has processes: the same concurrency.
limit=$(bash "$(dirname "$0")/pgbench_limit.sh" "${BENCH_PGBENCH_S:-10}" "$procs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs_per_s"])')

cpu_split=$(bench_cpu_split "$cpu_before" "$cpu_after")
statements=$(bench_statements_top 25 "$executions")

python3 - "$executions" "$steps" "$procs" "$start" "$end" "$coordinator_kb" "$children_kb" "$emails" "$limit" "$aged" "$email_mode" "$huge_mb" "$cpu_split" "$warmup" "$warmup_seconds" "$statements" <<'PY'
import json, sys
statements = json.loads(sys.argv[16])  # null without STATEMENTS=1
n, k, p = map(int, sys.argv[1:4])
secs = float(sys.argv[5]) - float(sys.argv[4])
children = [int(x) for x in sys.argv[7].split(',') if x]
limit = float(sys.argv[9])
steps_per_s = n * k / secs
print(json.dumps({"bench": "throughput", "executions": n, "steps_per_execution": k, "processes": p,
                  "email_mode": sys.argv[11], "aged_executions": int(sys.argv[10]), "huge_pages_mb": int(sys.argv[12]),
                  "warmup": sys.argv[14] == "1", "warmup_seconds": float(sys.argv[15]),
                  "seconds": round(secs, 3), "executions_per_s": round(n / secs, 1),
                  "steps_per_s": round(steps_per_s, 1), "emails_sent": int(sys.argv[8]), "emails_per_s": round(int(sys.argv[8]) / secs, 1),
                  "pgbench_jobs_per_s": limit, "ratio_to_pgbench": round(steps_per_s / limit, 3),
                  "coordinator_peak_rss_mb": round(int(sys.argv[6]) / 1024, 1),
                  "worker_child_peak_rss_mb": [round(c / 1024, 1) for c in children],
                  "cpu_s": json.loads(sys.argv[13]),
                  **({} if statements is None else {"statements": statements})}))
PY
