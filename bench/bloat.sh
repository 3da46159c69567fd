#!/usr/bin/env bash
# bench/bloat.sh [EXECUTIONS] [AGED] [PAIRS]
#
# No bloat cliff: the throughput benchmark on a fresh database, then on one
# aged as AGED (default 1,000,000) executions of the same workflow leave it
# when the engine runs them (bench_age in lib.sh: the trigger table's rows
# inserted, then marked processed; every step through wf_steps; the
# history and emails the workflow writes); the target is within 20%.
#
# Each throughput run measures the pgbench queue limit on its own cluster
# right after it, so the ratio compared is each run's ratio_to_pgbench:
# the machine's speed, which drifts by 10-20% between runs on the
# development VM, cancels out. aged_to_fresh is the aged run's
# ratio_to_pgbench over the fresh run's; the raw steps/s of both, and
# their ratio, are reported too. PAIRS (default 1) runs that many pairs,
# alternating which of the two runs first, and reports the medians (and
# each pair's aged_to_fresh).
#
# Both runs settle alike, without a VACUUM (BENCH_SETTLE_VACUUM=0): the
# aged database keeps its dead rows and index entries for the engine's
# sweeper and autovacuum to deal with, as on a live engine.
set -euo pipefail
executions=${1:-10000}
aged=${2:-1000000}
pairs=${3:-1}
[ "$aged" -gt 0 ] && [ "$pairs" -gt 0 ] || { echo "AGED and PAIRS must be above 0" >&2; exit 2; }
export BENCH_SETTLE_VACUUM=0
runs=()
for pair in $(seq 1 "$pairs"); do
	if [ $((pair % 2)) = 1 ]; then order="0 $aged"; else order="$aged 0"; fi
	for n in $order; do
		line=$(AGED=$n bash "$(dirname "$0")/throughput.sh" "$executions" 3 2 | tail -1)
		echo "$line" >&2
		runs+=("$pair" "$n" "$line")
	done
done
python3 - "$executions" "$aged" "${runs[@]}" <<'PY'
import json, statistics, sys
executions, aged = int(sys.argv[1]), int(sys.argv[2])
pairs = {}
args = sys.argv[3:]
for i in range(0, len(args), 3):
    run = json.loads(args[i + 2])
    pairs.setdefault(int(args[i]), {})["aged" if int(args[i + 1]) else "fresh"] = run
ratio = lambda run: run["steps_per_s"] / run["pgbench_jobs_per_s"]
med = lambda values: round(statistics.median(values), 3)
fresh = [p["fresh"] for _, p in sorted(pairs.items())]
old = [p["aged"] for _, p in sorted(pairs.items())]
by_pgbench = [ratio(a) / ratio(f) for f, a in zip(fresh, old)]
raw = [a["steps_per_s"] / f["steps_per_s"] for f, a in zip(fresh, old)]
print(json.dumps({"bench": "bloat", "executions": executions, "aged_executions": old[0]["aged_executions"],
                  "pairs": len(by_pgbench),
                  "fresh_steps_per_s": round(statistics.median(r["steps_per_s"] for r in fresh), 1),
                  "aged_steps_per_s": round(statistics.median(r["steps_per_s"] for r in old), 1),
                  "fresh_pgbench_jobs_per_s": round(statistics.median(r["pgbench_jobs_per_s"] for r in fresh), 1),
                  "aged_pgbench_jobs_per_s": round(statistics.median(r["pgbench_jobs_per_s"] for r in old), 1),
                  "fresh_ratio_to_pgbench": med([ratio(r) for r in fresh]),
                  "aged_ratio_to_pgbench": med([ratio(r) for r in old]),
                  "aged_to_fresh": med(by_pgbench),
                  "aged_to_fresh_steps_per_s": med(raw),
                  "pair_aged_to_fresh": [round(x, 3) for x in by_pgbench]}))
PY
