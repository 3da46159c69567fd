#!/usr/bin/env bash
# tests/deploy/verify-units.sh - the systemd units in deploy/ as systemd
# reads them: `systemd-analyze verify` must have nothing to say (a warning
# about an unknown key fails too), the hardening must not slip (offline
# security exposure at most 2.0 of 10), the stop timeout must leave the pool
# its WORKER_GRACE_S, and ExecStart must name the installed binaries.
#
# verify checks that ExecStart can be executed, so it reads copies whose
# ExecStart points at the binaries this build made (WF_COORDINATOR and
# WF_WORKER, set by tests/meson.build).
set -euo pipefail
root=${WF_SOURCE_ROOT:?run through meson test}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found (install systemd)"; exit 1; }

work=$(mktemp -d /tmp/wf-units.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }

for unit in wf-coordinator wf-worker; do
	src=$root/deploy/$unit.service
	case $unit in
	wf-coordinator) built=${WF_COORDINATOR:?} ;;
	wf-worker) built=${WF_WORKER:?} ;;
	esac
	grep -qx "ExecStart=/usr/local/bin/$unit" "$src" || fail "$unit: ExecStart is not /usr/local/bin/$unit"
	sed "s|^ExecStart=/usr/local/bin/$unit\$|ExecStart=$built|" "$src" >"$work/$unit.service"

	out=$(cd "$work" && systemd-analyze verify --man=no "./$unit.service" 2>&1) || fail "$unit: verify failed"
	[ -z "$out" ] || fail "$unit: systemd-analyze verify says: $out"

	(cd "$work" && systemd-analyze security --offline=yes --threshold=20 "./$unit.service" >/dev/null 2>&1) ||
		fail "$unit: security exposure above 2.0: $(cd "$work" && systemd-analyze security --offline=yes "./$unit.service" 2>&1 | tail -1)"

	grep -qx 'RestartPreventExitStatus=2' "$src" || fail "$unit: a configuration error (exit 2) must not restart"
done

# The pool drains for WORKER_GRACE_S before it kills its children itself;
# systemd must not kill them first.
grace=$(sed -n 's/^WORKER_GRACE_S=//p' "$root/deploy/env.example")
stop=$(sed -n 's/^TimeoutStopSec=//p' "$root/deploy/wf-worker.service")
[ -n "$grace" ] && [ -n "$stop" ] && [ "$stop" -gt "$grace" ] ||
	fail "wf-worker: TimeoutStopSec ($stop) must exceed WORKER_GRACE_S ($grace)"
grep -qx 'KillMode=mixed' "$root/deploy/wf-worker.service" ||
	fail "wf-worker: KillMode=mixed, so SIGTERM reaches the pool parent only"

if [ "$failed" -ne 0 ]; then
	exit 1
fi
echo "units verified"
