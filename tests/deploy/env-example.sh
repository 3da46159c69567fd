#!/usr/bin/env bash
# tests/deploy/env-example.sh - deploy/env.example is what
# `wf-coordinator settings` prints, so it lists every setting with its
# current default. After changing the settings table, regenerate it:
#   build/coordinator/wf-coordinator settings > deploy/env.example
set -euo pipefail
root=${WF_SOURCE_ROOT:?run through meson test}
if ! diff -u "$root/deploy/env.example" <("${WF_COORDINATOR:?}" settings); then
	echo "FAIL: deploy/env.example is stale; regenerate it with: wf-coordinator settings > deploy/env.example"
	exit 1
fi
echo "deploy/env.example matches wf-coordinator settings"
