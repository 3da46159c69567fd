#!/bin/sh
# run-fuzzer.sh FUZZER CORPUS: a bounded libFuzzer run over a copy of the
# seed corpus (the copy keeps what the run finds out of the source tree).
# A dictionary CORPUS.dict beside the corpus folder is used when present.
set -eu
fuzzer=$1
seeds=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null || true
set --
[ -f "$seeds.dict" ] && set -- -dict="$seeds.dict"
"$fuzzer" -max_total_time="${WF_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="${WF_FUZZ_ARTIFACTS:-/tmp/}" "$@" "$work"
echo "Checks: 1, Failures: 0, Errors: 0"
