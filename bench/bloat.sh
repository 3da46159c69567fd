#!/usr/bin/env bash
# bench/bloat.sh [EXECUTIONS] [AGED]
#
# No bloat cliff: the throughput benchmark on a fresh database, then on one
# that already holds AGED (default 1,000,000) finished executions with their
# history and emails; prints both and their ratio (the target: within 20%).
set -euo pipefail
executions=${1:-10000}
aged=${2:-1000000}
cd "$(dirname "$0")"
fresh=$(bash throughput.sh "$executions" 3 2 | tail -1)
old=$(AGED=$aged bash throughput.sh "$executions" 3 2 | tail -1)
python3 - "$fresh" "$old" <<'PY'
import json, sys
fresh, old = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"bench": "bloat", "executions": fresh["executions"], "aged_executions": old["aged_executions"],
                  "fresh_steps_per_s": fresh["steps_per_s"], "aged_steps_per_s": old["steps_per_s"],
                  "aged_to_fresh": round(old["steps_per_s"] / fresh["steps_per_s"], 3)}))
PY
