#!/usr/bin/env bash
# Scale-out within CleverTap's limit: three clevertap-sink members on a real
# Kafka broker (the e2e fixture's scripts, on its own port) share one account's
# max_in_flight of 15 against clevertap-emulator answering after 300 ms, so the
# account's ceiling is 15 x 1000 records / 0.3 s = 50,000 records/s. Runs the
# test_e2e_scale program (which asserts the concurrency, never the timing) on a
# build without sanitizers with more records, and prints its figures: peak
# concurrency, 429s, records/s steady and overall, the share of the ceiling.
# Never fails on timing.
#
# Usage: bench/scale/run.sh [BUILD_DIR]   (default: build-bench-e2e, RelWithDebInfo)
# Env:   RECORDS (600000), RUNS (1), KAFKA_PORT (29192; uses PORT..PORT+2)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench-e2e}
RECORDS=${RECORDS:-600000}
RUNS=${RUNS:-1}
export TCB_KAFKA_PORT=${KAFKA_PORT:-29192}

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target test_e2e_scale clevertap-sink clevertap-emulator talon-ingest \
      kafka-dev-broker -j2 >/dev/null

WORK=$(mktemp -d /tmp/tcb-scale-bench-XXXXXX)
trap 'bash "$ROOT/tests/e2e/kafka/stop.sh" "$WORK/kafka"; rm -rf "$WORK"' EXIT
bash "$ROOT/tests/e2e/kafka/start.sh" "$WORK/kafka" >/dev/null

echo "bench/scale: $RECORDS records, 3 members, 6 partitions, emulator at 300 ms, max_in_flight 15"
echo "command: RECORDS=$RECORDS bench/scale/run.sh $BUILD   ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for run in $(seq "$RUNS"); do
  TCB_E2E_BOOTSTRAP=127.0.0.1:$TCB_KAFKA_PORT TCB_E2E_KAFKA_WORK=$WORK/kafka \
  TCB_BIN_DIR=$BUILD/bin TCB_SOURCE_DIR=$ROOT TCB_SCALE_RECORDS=$RECORDS \
    "$BUILD/tests/test_e2e_scale" 2>&1 | grep -E "^(scale-out|scenario)" | sed "s/^/run $run: /" || true
done
