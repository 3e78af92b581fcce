#!/usr/bin/env bash
# The README's first command, run non-interactively on the built binaries
# (--bin-dir, --no-install): it exits 0, CleverTap received the partner
# guide's coupon and the notifications' events, the invalid webhook is a
# dead letter with its reason, metrics are shown, no made-up secret is
# printed, and every process it started is gone. Then interrupted once its
# daemons run, by Ctrl-C (SIGINT to its process group: exit 130) and by SIGTERM
# to the script alone (exit 143): again nothing left running.
# Usage: test_demo.sh BIN_DIR
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$1
OUT=$(mktemp /tmp/tcb-demo-test-XXXXXX)
trap 'rm -f "$OUT"' EXIT
fail() { echo "FAIL: $*" >&2; echo "--- demo output:" >&2; cat "$OUT" >&2; exit 1; }
expect() { grep -qF -- "$1" "$OUT" || fail "output lacks: $1"; }

# Every pid the demo said it started must be gone.
all_stopped() {
  local pids
  pids=$(sed -n 's/^started .* (pid \([0-9]*\))$/\1/p' "$OUT")
  [ -n "$pids" ] || fail "the demo named no process it started"
  for pid in $pids; do
    if kill -0 "$pid" 2>/dev/null; then fail "process $pid is still running"; fi
  done
}

bash "$ROOT/demo/run.sh" --bin-dir "$BIN" --no-install >"$OUT" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "demo exited $rc"
expect '"evtName": "Coupon Generated"'
expect '"CouponGenerated": "WELCOME-10-7KQ2"'
expect '"evtName": "Welcome Coupon"'
expect '"evtName": "Tier Upgrade"'
expect '"type": "profile"'
expect '"evtName": "Loyalty Points Balance Changed"'
expect 'what CleverTap received: 6 records'
expect 'dead letter talon.webhooks.dlq:0:0: stage=validation'
expect 'unrendered Talon.One template'
expect 'tcb_sink_dead_letters_total{stage="validation",code="0"} 1'
expect 'tcb_upload_records_accepted_total{account="shop-eu"} 6'
expect 'tcb_ingest_records_produced_total 5'
expect 'demo: stopped'
if grep -q '${$Coupon.Code}' "$OUT" && [ "$(grep -c 'WELCOME-10' "$OUT")" -lt 1 ]; then
  fail "unexpected output"
fi
if grep -qiE 'passcode: *[0-9a-f]{32}|secret: *[0-9a-f]{32}' "$OUT"; then
  fail "a secret was printed"
fi
all_stopped
echo "demo: ran to the end and stopped everything"

# Interrupted once its daemons run: SIGINT to the demo's process group, as a
# terminal's Ctrl-C sends it, then SIGTERM to the demo alone, as a supervisor
# or a CI timeout sends it (its daemons get nothing: the demo must stop them).
# Job control is on so the background demo neither starts with SIGINT ignored
# nor shares our process group.
interrupt() { # SIGNAL TARGET WANT_RC WANT_TEXT
  set -m
  bash "$ROOT/demo/run.sh" --bin-dir "$BIN" --no-install >"$OUT" 2>&1 &
  local demo=$!
  set +m
  for _ in $(seq 300); do
    grep -q "^started clevertap-sink" "$OUT" && break
    sleep 0.1
  done
  grep -q "^started clevertap-sink" "$OUT" || fail "the demo never started clevertap-sink"
  if [ "$2" = group ]; then kill "-$1" -- "-$demo"; else kill "-$1" "$demo"; fi
  wait "$demo"
  local rc=$?
  [ "$rc" -eq "$3" ] || fail "demo exited $rc after SIG$1 (want $3)"
  expect "$4"
  expect 'demo: stopped'
  all_stopped
  echo "demo: SIG$1 to the $2: exit $rc, stopped everything"
}
interrupt INT group 130 'demo: interrupted'
interrupt TERM process 143 'demo: terminated'
