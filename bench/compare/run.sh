#!/usr/bin/env bash
# The side-by-side benchmark, one command: builds the bridge (Release, no
# sanitizers), fetches and builds the peer (Benthos 4.27.0, cached outside the
# repository), starts a real Kafka broker (KRaft, tests/e2e/kafka, on its own
# ports) and kafka-dev-broker, fills the workload, and measures clevertap-sink,
# the kcat floor, the peer and talon-ingest in interleaved rounds. Prints the
# table; writes bench/results/compare.md and compare.png. Never fails on timing.
#
# Usage: bench/compare/run.sh [BUILD_DIR]     (default build-bench)
# Env:   RECORDS (1000000)  ROUNDS (3)  INGEST_SECONDS (10)  OUT (bench/results)
#        SKIP (comma list: peer, ingest, dev, matrix, kafka = use the dev broker only)
#        MAX_LOAD (1.0): wait (up to 15 min) for the 1-minute load average to drop below it
#        KAFKA_PORT (39092)  SINK_EXTRA (YAML lines under sink:, e.g. '  max_pending_records: 20000')
# Smoke test with tiny sizes: RECORDS=20000 ROUNDS=1 INGEST_SECONDS=2 OUT=/tmp/x bench/compare/run.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/compare
BUILD=${1:-$ROOT/build-bench}
RECORDS=${RECORDS:-1000000}
ROUNDS=${ROUNDS:-3}
INGEST_SECONDS=${INGEST_SECONDS:-10}
OUT=${OUT:-$ROOT/bench/results}
SKIP=${SKIP:-}
MAX_LOAD=${MAX_LOAD:-1.0}
KAFKA_PORT=${KAFKA_PORT:-39092}
COMMAND="bench/compare/run.sh $*"
ENV_USED=$(for v in RECORDS ROUNDS INGEST_SECONDS SKIP MAX_LOAD SINK_EXTRA; do
    [ -n "${!v:-}" ] && printf '%s=%q ' "$v" "${!v}"; done; true)

skipped() { [[ ",$SKIP," == *",$1,"* ]]; }
for tool in kcat wrk java /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed (apt-get install kcat wrk openjdk-17-jre-headless time)" >&2; exit 1; }
done
PYTHON=python3
if ! python3 -c 'import matplotlib' 2>/dev/null; then
    if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
        PYTHON=/usr/bin/python3
    else
        echo "run.sh: no matplotlib: the chart is skipped (apt-get install python3-matplotlib)" >&2
    fi
fi

echo "== building (Release, no sanitizers) in $BUILD" >&2
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTCB_BUILD_TESTS=OFF >/dev/null
nice -n 5 cmake --build "$BUILD" -j2 --target clevertap-sink talon-ingest clevertap-emulator \
    kafka-dev-broker ingest-bench-floor bench-kafka bench_transforms >/dev/null
BIN=$BUILD/bin
BRIDGE_VERSION=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown) # what was built

BENTHOS=""
if ! skipped peer; then
    echo "== the peer: Benthos 4.27.0 (cached; the first build takes minutes)" >&2
    BENTHOS=$("$HERE/peer.sh")
fi

TMP=$(mktemp -d /tmp/tcb-compare-XXXXXX)
KAFKA_WORK=$TMP/kafka
DEV_PID=""
cleanup() {
    [ -n "$DEV_PID" ] && kill "$DEV_PID" 2>/dev/null && wait "$DEV_PID" 2>/dev/null
    [ -d "$KAFKA_WORK" ] && "$ROOT/tests/e2e/kafka/stop.sh" "$KAFKA_WORK" >/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

wait_load() {
    local start=$SECONDS load
    while :; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        if awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN {exit !(l < m)}'; then break; fi
        if (( SECONDS - start > 900 )); then
            echo "== load average still $load after 15 min: measuring anyway (the report says so)" >&2
            break
        fi
        echo "== load average $load >= $MAX_LOAD: waiting" >&2
        sleep 30
    done
}

echo "== brokers" >&2
# The mix topics exist on the dev broker too: filled only when there is no real broker.
"$BIN/kafka-dev-broker" --bootstrap-file "$TMP/dev.bootstrap" --topic bench.seed:6 \
    --topic bench.ingest:6 --topic bench.mix.a1:6 --topic bench.mix.a2:6 --topic bench.mix.a4:6 \
    </dev/null >"$TMP/dev.log" 2>&1 &
DEV_PID=$!
for _ in $(seq 100); do [ -s "$TMP/dev.bootstrap" ] && break; sleep 0.1; done
DEV=$(cat "$TMP/dev.bootstrap")
KAFKA=""
KAFKA_NOTE=""
if skipped kafka; then
    KAFKA_NOTE="SKIP=kafka: everything ran on kafka-dev-broker"
elif TCB_KAFKA_PORT=$KAFKA_PORT \
    TCB_KAFKA_EXTRA_PROPERTIES=$'num.partitions=6\nlog.segment.bytes=134217728' \
    "$ROOT/tests/e2e/kafka/start.sh" "$KAFKA_WORK" >&2; then
    KAFKA=$(cat "$KAFKA_WORK/bootstrap")
else
    KAFKA_NOTE="the real broker did not start: everything ran on kafka-dev-broker"
    echo "== $KAFKA_NOTE" >&2
fi
MAIN=${KAFKA:-$DEV}

echo "== filling: $RECORDS records per topic (lz4, 6 partitions, 100,000 profiles)" >&2
fill() { # BROKER TOPIC ACCOUNTS NOTIFY_PCT
    "$BIN/bench-kafka" fill "$1" "$2" "$RECORDS" 100000 "$3" "$4" lz4 >&2
    local landed
    landed=$("$BIN/bench-kafka" count "$1" "$2")
    if [ "$landed" != "$RECORDS" ]; then
        echo "run.sh: $2 holds $landed of $RECORDS records (the dev broker's retention?)" >&2
        exit 1
    fi
}
for a in 1 2 4; do fill "$MAIN" "bench.mix.a$a" "$a" 10; done
if [ -n "$KAFKA" ] && ! skipped dev; then fill "$DEV" bench.seed 1 0; fi

wait_load
LOAD_BEFORE=$(cat /proc/loadavg)
mkdir -p "$OUT"
SINK_ARGS=()
while IFS= read -r line; do [ -n "$line" ] && SINK_ARGS+=(--sink-extra "$line"); done <<<"${SINK_EXTRA:-}"
"$PYTHON" "$HERE/compare.py" --bin "$BIN" --benthos "$BENTHOS" --kafka "$KAFKA" --dev "$DEV" \
    --records "$RECORDS" --rounds "$ROUNDS" --ingest-seconds "$INGEST_SECONDS" --skip "$SKIP" \
    "${SINK_ARGS[@]}" --out "$TMP/results.json"
LOAD_AFTER=$(cat /proc/loadavg)
cp "$TMP/results.json" "$OUT/compare.json" # every run's figures, for questions the table does not answer

echo "== transform benchmark (the jansson floor of issue 9's goal)" >&2
"$BIN/bench_transforms" 1 >"$TMP/transforms.txt"

KAFKA_VERSION=$(ls "${TCB_KAFKA_LIBS:-${HOME:-/root}/.cache/tcb-kafka-libs}" 2>/dev/null |
                sed -n 's/^kafka_2.13-\(.*\)\.jar$/\1/p' | head -1)
"$PYTHON" "$HERE/report.py" --results "$TMP/results.json" --out "$OUT" \
    --transforms "$TMP/transforms.txt" --command "$ENV_USED$COMMAND" \
    --load-before "$LOAD_BEFORE" --load-after "$LOAD_AFTER" --kafka-note "$KAFKA_NOTE" \
    --version "kafka=${KAFKA_VERSION:-none}" \
    --version "librdkafka=$(pkg-config --modversion rdkafka)" \
    --version "kcat=$(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\).*/\1/p' | head -1)" \
    --version "benthos=$([ -n "$BENTHOS" ] && "$BENTHOS" --version 2>/dev/null | head -1)" \
    --version "wrk=$(wrk -v 2>&1 | head -1 | cut -d' ' -f2)" \
    --version "java=$(java -version 2>&1 | head -1)" \
    --version "bridge=$BRIDGE_VERSION" \
    --version "compiler=$(cc --version | head -1)"
