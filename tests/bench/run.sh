#!/usr/bin/env bash
# tests/bench/run.sh NAME - the bench suite: runs one benchmark command of
# bench/ at a small size, with the build under test (BUILD_DIR,
# BENCH_PREBUILT) on the test cluster, and checks that its JSON line says
# what the command promises: every execution completed, every email sent,
# figures present and positive. The figures themselves are not judged
# here (bench/README.md says why they are measured apart); what is tested
# is that each command of the README's table still runs and still
# measures what it says.
set -euo pipefail
name=${1:?usage: run.sh NAME}
root=${WF_SOURCE_ROOT:?run through meson test}
: "${BUILD_DIR:?run through meson test}"
export BENCH_PREBUILT=1 BENCH_PGBENCH_S=2
bench=$root/bench

# check JSON PYTHON_CONDITION: fails, printing the line, unless the
# condition holds for the parsed line d.
check() {
	python3 - "$1" "$2" <<'PY'
import json, sys
line, condition = sys.argv[1], sys.argv[2]
try:
    d = json.loads(line)
except ValueError:
    sys.exit("FAIL: not one JSON line: %r" % line)
if not eval("(" + condition + ")", {"d": d}):
    sys.exit("FAIL: %s\n  does not hold for: %s" % (condition, line))
print("ok:", line)
PY
}

# last_line COMMAND...: a command's last line of output, its stderr shown.
last_line() { "$@" | tail -1; }

case $name in
queue_throughput)
	check "$(last_line bash "$bench/queue_throughput.sh" 600 2 3)" \
		'd["node"] == "noop" and d["steps"] == 600 and d["steps_per_execution"] == 3 and d["steps_per_s"] > 0'
	check "$(NODE=email last_line bash "$bench/queue_throughput.sh" 300 2 3)" \
		'd["node"] == "email" and d["steps"] == 300 and d["executions_per_s"] > 0'
	if NODE=sms bash "$bench/queue_throughput.sh" 30 2 2>/dev/null; then
		echo "FAIL: NODE=sms was accepted"
		exit 1
	fi
	;;
throughput)
	# throughput.sh itself fails unless every execution completed.
	check "$(last_line bash "$bench/throughput.sh" 300 3 2)" \
		'd["executions"] == 300 and d["emails_sent"] == 900 and d["email_mode"] == "mock"
		 and d["pgbench_jobs_per_s"] > 0 and 0 < d["ratio_to_pgbench"]
		 and 0 < d["coordinator_peak_rss_mb"] and len(d["worker_child_peak_rss_mb"]) == 2
		 and all(x > 0 for x in d["worker_child_peak_rss_mb"])
		 and d["cpu_s"]["machine_busy"] > 0 and "wf-coordinator" in d["cpu_s"]["server_sessions"]
		 and not d["warmup"] and d["warmup_seconds"] == 0 and "statements" not in d'
	# STATEMENTS=1 on a private cluster, which it starts with pg_stat_statements
	# loaded: the run's statements, those inside the engine's functions too.
	check "$(env -u PGHOST -u PGPORT -u PGUSER STATEMENTS=1 bash "$bench/throughput.sh" 200 3 2 | tail -1)" \
		'd["executions"] == 200 and d["emails_sent"] == 600 and 0 < len(d["statements"]) <= 25
		 and any(s["toplevel"] and "wf_trigger_rows_start" in s["query"] and s["calls"] >= 1 for s in d["statements"])
		 and any(not s["toplevel"] and "INSERT INTO wf_history" in s["query"] and "unnest(execs" in s["query"]
		         and s["rows"] >= 200
		         for s in d["statements"])
		 and all(s["ms"] >= 0 and s["us_per_execution"] >= 0 for s in d["statements"])
		 and [s["ms"] for s in d["statements"]] == sorted((s["ms"] for s in d["statements"]), reverse=True)'
	if STATEMENTS=yes bash "$bench/throughput.sh" 30 1 2 2>/dev/null; then
		echo "FAIL: STATEMENTS=yes was accepted"
		exit 1
	fi
	# A given cluster without pg_stat_statements loaded (the test cluster) is refused.
	if ! psql -X -q -t -A -d postgres -c "SHOW shared_preload_libraries" | grep -q pg_stat_statements &&
		STATEMENTS=1 bash "$bench/throughput.sh" 30 1 2 2>/dev/null; then
		echo "FAIL: STATEMENTS=1 ran on a cluster without pg_stat_statements"
		exit 1
	fi
	# The warm-up's rows are emptied before the timed run: its emails are not counted.
	check "$(WARMUP=1 last_line bash "$bench/throughput.sh" 300 3 2)" \
		'd["warmup"] and d["warmup_seconds"] > 0 and d["executions"] == 300 and d["emails_sent"] == 900'
	if WARMUP=1 AGED=10 bash "$bench/throughput.sh" 30 1 2 2>/dev/null; then
		echo "FAIL: WARMUP=1 was accepted with AGED"
		exit 1
	fi
	;;
creation)
	# creation.sh itself fails unless every row got its execution and step.
	check "$(last_line bash "$bench/creation.sh" 300)" \
		'd["executions"] == 300 and not d["rule"] and d["executions_per_s"] > 0
		 and "wf-coordinator" in d["cpu_s"]["server_sessions"]'
	check "$(RULE=1 last_line bash "$bench/creation.sh" 300)" 'd["rule"] and d["executions_per_s"] > 0 and "statements" not in d'
	;;
throughput_smtp)
	check "$(EMAIL_MODE=smtp last_line bash "$bench/throughput.sh" 60 1 2)" \
		'd["email_mode"] == "smtp" and d["emails_sent"] == 60 and d["emails_per_s"] > 0'
	;;
pgbench_limit)
	check "$(last_line bash "$bench/pgbench_limit.sh" 2 2)" 'd["clients"] == 2 and d["jobs_per_s"] > 0'
	;;
step_lateness)
	check "$(last_line bash "$bench/step_lateness.sh" 40 2 2 500)" \
		'd["measured"] == 40 and d["waiting"] == 500 and d["still_waiting"] == 500 and d["early"] == 0
		 and 0 <= d["p50_ms"] <= d["p99_ms"] <= d["max_ms"]
		 and 0 <= d["claimed_p50_ms"] <= d["claimed_p99_ms"] <= d["claimed_max_ms"]
		 and d["claimed_p50_ms"] <= d["p50_ms"] and d["claimed_max_ms"] <= d["max_ms"]'
	;;
trigger_latency)
	check "$(last_line bash "$bench/trigger_latency.sh" 20 20 2 300)" \
		'd["inserts"] == 20 and 0 <= d["p50_ms"] <= d["p99_ms"] <= d["max_ms"]
		 and d["bulk_rows"] == 300 and d["bulk_seconds_to_first_emails"] > 0'
	;;
api_latency)
	check "$(last_line bash "$bench/api_latency.sh" 1 10)" \
		'all(d[k]["requests_per_s"] > 0 and d[k]["non_2xx"] == 0 and d[k]["p99_ms"] > 0
		     for k in ("health", "execution_detail"))'
	;;
bloat)
	# Chunks of 700 make the ageing run its sweeps between chunks too.
	check "$(BENCH_AGE_CHUNK=700 last_line bash "$bench/bloat.sh" 200 2000)" \
		'd["executions"] == 200 and d["aged_executions"] == 2000 and d["pairs"] == 1
		 and d["fresh_ratio_to_pgbench"] > 0 and d["aged_ratio_to_pgbench"] > 0
		 and abs(d["aged_to_fresh"] - d["aged_ratio_to_pgbench"] / d["fresh_ratio_to_pgbench"]) < 0.02
		 and d["fresh_steps_per_s"] > 0 and d["aged_steps_per_s"] > 0 and d["aged_to_fresh_steps_per_s"] > 0'
	# The aged run went second, so its database is the one left: aged the
	# way the engine leaves one (every trigger row inserted, then updated
	# processed; every step through wf_steps; 8 history rows and 3 emails
	# per execution), and vacuumed by nothing but the engine's sweeper
	# (wf_steps) and autovacuum.
	aged=$(psql -X -q -t -A -F ' ' -v ON_ERROR_STOP=1 -d wfbench_throughput -c "
		SELECT (SELECT count(*) FILTER (WHERE processed) || '/' || count(*) FROM dummy_subscriptions),
		       (SELECT count(*) FILTER (WHERE status = 'completed') || '/' || count(*) FROM workflow_executions),
		       (SELECT count(*) FROM workflow_execution_history),
		       (SELECT count(*) FILTER (WHERE subject = 'bulk') || '/' || count(*) FROM email_logs),
		       (SELECT count(*) FROM wf_steps),
		       (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'dummy_subscriptions') >= 2200,
		       (SELECT n_tup_ins >= 2200 AND n_tup_del >= 2200 FROM pg_stat_user_tables WHERE relname = 'wf_steps'),
		       (SELECT count(*) FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL AND relname <> 'wf_steps')")
	want="2200/2200 2200/2200 17600 6000/6600 0 t t 0"
	if [ "$aged" != "$want" ]; then
		echo "FAIL: the aged database holds: $aged"
		echo "  expected:                     $want"
		echo "  (subscriptions processed/all, executions completed/all, history rows, emails bulk/all,"
		echo "   queued steps, subscriptions updated, steps inserted and deleted, tables vacuumed by hand)"
		exit 1
	fi
	echo "ok: the aged database holds: $aged"
	;;
micro)
	check "$(last_line "$BUILD_DIR/bench/wf-bench-jsonlogic" 1)" 'd["evals_per_sec"] > 0 and d["tests_per_sec"] > 0'
	check "$(last_line "$BUILD_DIR/bench/wf-bench-template" "$root/templates" 1)" 'd["renders_per_s"] > 0'
	check "$(last_line "$BUILD_DIR/bench/wf-bench-smtp" 20)" 'd["emails"] == 20 and d["failed"] == 0 and d["emails_per_s"] > 0'
	;;
*)
	echo "FAIL: no benchmark named $name"
	exit 1
	;;
esac
