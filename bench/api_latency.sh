#!/usr/bin/env bash
# bench/api_latency.sh [SECONDS] [CONNECTIONS]
#
# Requests/s and latency of the main reads, with Debian's wrk: GET /health
# and GET /workflow/executions/:id (an execution with a history of a few
# steps), CONNECTIONS connections for SECONDS each, two wrk threads.
set -euo pipefail
seconds=${1:-10}
conns=${2:-50}
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || wf_install_packages wrk
bench_build
bench_cluster
bench_database api

bench_workflow bench_two '{"start":"a","nodes":{"a":{"type":"noop","next":"b"},"b":{"type":"log","message":"bench"}}}'
id=$(bench_sql -c "SELECT wf_execute('bench_two', '{\"user\": {\"email\": \"test-api@example.com\"}}')")
port=$(wf_free_port)
PORT=$port LOG_LEVEL=warn "$COORDINATOR" 2>/dev/null &
coordinator=$!
WORKER_PROCESSES=1 LOG_LEVEL=warn "$WORKER" 2>/dev/null &
pool=$!
bench_wait "SELECT status FROM workflow_executions WHERE id = '$id'" completed 30
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health/live" >/dev/null && break; sleep 0.1; done

# wrk --latency prints "Requests/sec: N" and a percentile table ("99%  12.34ms").
measure() {
	wrk -t2 -c"$conns" -d"${seconds}s" --latency "http://127.0.0.1:$port$1" |
		python3 -c '
import re, sys
text = sys.stdin.read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return round(float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 3)
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(rps, p50, p99, int(errors.group(1)) if errors else 0)'
}
health=$(measure /health)
detail=$(measure "/workflow/executions/$id")
kill -TERM "$coordinator" "$pool"
wait "$coordinator" "$pool" 2>/dev/null || true

python3 - "$seconds" "$conns" "$health" "$detail" <<'PY'
import json, sys
def parse(s):
    rps, p50, p99, errs = s.split()
    return {"requests_per_s": float(rps), "p50_ms": float(p50), "p99_ms": float(p99), "non_2xx": int(errs)}
print(json.dumps({"bench": "api_latency", "seconds": int(sys.argv[1]), "connections": int(sys.argv[2]),
                  "health": parse(sys.argv[3]), "execution_detail": parse(sys.argv[4])}))
PY
