#!/usr/bin/env bash
# Smoke test of the benchmarks with tiny sizes: each one runs to its end and
# prints its figures (which mean nothing at these sizes). Not part of
# tests/run.sh; ctest runs it as bench_smoke (label bench) only when configured
# with -DTCB_BENCH_SMOKE=ON. Usage: bench/smoke.sh [RELEASE_BUILD_DIR] [OUT_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
OUT=${2:-$(mktemp -d /tmp/tcb-bench-smoke-XXXXXX)}
RECORDS=5000 ROUNDS=1 INGEST_SECONDS=1 SKIP=peer,kafka MAX_LOAD=1000 OUT=$OUT \
    "$ROOT/bench/compare/run.sh" "$BUILD"
test -s "$OUT/compare.md"
grep -q "clevertap-sink, 0 ms, 1 acct, 1 member" "$OUT/compare.md"
"$BUILD/bin/bench_transforms" 0.05
TCB_BIN_DIR=$BUILD/bin TCB_BENCH_DEADLINE_S=60 "$BUILD/bin/bench-uploader" 2000
echo "bench smoke: ok"
