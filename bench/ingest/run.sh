#!/usr/bin/env bash
# talon-ingest benchmark: keep-alive load from wrk (a second process, loopback)
# with the partner guide's one-record upload (identities drawn from 100,000
# profiles: post.lua), against talon-ingest writing to kafka-dev-broker (every
# 200 acknowledged by Kafka) and, side by side in the same run, against the
# floor: a bare libmicrohttpd responder with the same threading model and no
# Kafka. Prints requests/s, p50/p99 latency and peak RSS
# per connection count. Never fails on timing.
#
# bench/compare/run.sh measures the same against a real Kafka broker too, three
# rounds with median, min and max.
# Usage: bench/ingest/run.sh [BUILD_DIR]   (default: build-bench, Release, no sanitizers)
# Env:   DURATION (10s), CONNECTIONS ("32 256"), WRK_THREADS (2), BASE_PORT (18480),
#        KAFKA_PROPERTIES to try producer settings, e.g. 'linger.ms: "0", socket.nagle.disable: "true"'

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-"32 256"}
WRK_THREADS=${WRK_THREADS:-2}
BASE_PORT=${BASE_PORT:-18480}
INGEST_PORT=$BASE_PORT
OPS_PORT=$((BASE_PORT + 1))
FLOOR_PORT=$((BASE_PORT + 2))

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTCB_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target talon-ingest kafka-dev-broker ingest-bench-floor -j2 >/dev/null
BIN=$BUILD/bin

TMP=$(mktemp -d /tmp/tcb-ingest-bench-XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

wait_http() { # URL: until it answers 200 (at most 20 s)
    for _ in $(seq 200); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "no answer from $1" >&2
    return 1
}

"$BIN/kafka-dev-broker" --bootstrap-file "$TMP/bootstrap" --topic talon.webhooks:4 \
    </dev/null >"$TMP/broker.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$TMP/bootstrap" ] && break; sleep 0.1; done
BOOTSTRAP=$(cat "$TMP/bootstrap")

cat >"$TMP/ingest.yaml" <<YAML
kafka:
  brokers: "$BOOTSTRAP"
  topic: "talon.webhooks"
  properties: {${KAFKA_PROPERTIES:-}}
clevertap:
  accounts:
    - name: "bench"
      account_id: "BENCH-ACC-0"
      passcode: "bench-passcode"
      region: "eu1"
ingest:
  listen: "127.0.0.1:$INGEST_PORT"
  metrics_listen: "127.0.0.1:$OPS_PORT"
  max_connections: 1024
log:
  level: "warn"
YAML

peak_rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# wrk_run NAME URL CONNECTIONS -> $TMP/NAME.wrk
wrk_run() {
    wrk -t"$WRK_THREADS" -c"$3" -d"$DURATION" --latency -s "$ROOT/bench/ingest/post.lua" "$2" \
        >"$TMP/$1.wrk"
}

# summary NAME PID: one table row from wrk's output and the process's peak RSS
summary() {
    local f=$TMP/$1.wrk
    local total non2xx secs rps p50 p99
    total=$(awk '/requests in/ {print $1}' "$f")
    secs=$(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' "$f")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$f")
    non2xx=${non2xx:-0}
    rps=$(awk -v t="$total" -v n="$non2xx" -v s="$secs" 'BEGIN {printf "%.0f", (t - n) / s}')
    p50=$(awk '$1 == "50%" {print $2}' "$f")
    p99=$(awk '$1 == "99%" {print $2}' "$f")
    printf '%-8s %6s %12s %9s %9s %9s %10s\n' "$1" "$3" "$rps" "$p50" "$p99" "$non2xx" \
        "$(($(peak_rss_kib "$2") / 1024)) MiB"
    echo "$rps" >"$TMP/$1.rps"
}

echo "talon-ingest benchmark: wrk -t$WRK_THREADS -d$DURATION --latency -s bench/ingest/post.lua," \
    "broker kafka-dev-broker (4 partitions), $(nproc) CPUs"
printf '%-8s %6s %12s %9s %9s %9s %10s\n' target conns "2xx req/s" p50 p99 non-2xx "peak RSS"
for c in $CONNECTIONS; do
    "$BIN/ingest-bench-floor" "$FLOOR_PORT" &
    FLOOR_PID=$!
    PIDS+=($FLOOR_PID)
    sleep 0.3
    wrk_run "floor-$c" "http://127.0.0.1:$FLOOR_PORT/1/upload" "$c"
    summary "floor-$c" "$FLOOR_PID" "$c"
    kill "$FLOOR_PID"; wait "$FLOOR_PID" || true

    "$BIN/talon-ingest" --config "$TMP/ingest.yaml" 2>>"$TMP/ingest.log" &
    INGEST_PID=$!
    PIDS+=($INGEST_PID)
    wait_http "http://127.0.0.1:$OPS_PORT/readyz"
    wrk_run "ingest-$c" "http://127.0.0.1:$INGEST_PORT/1/upload" "$c"
    summary "ingest-$c" "$INGEST_PID" "$c"
    metrics=$(curl -s "http://127.0.0.1:$OPS_PORT/metrics")
    ok=$(echo "$metrics" | awk -F' ' '/^tcb_ingest_requests_total\{route="upload",status="200"\}/ {print $2}')
    acked=$(echo "$metrics" | awk '/^tcb_ingest_records_produced_total/ {print $2}')
    echo "         talon-ingest answered ${ok:-0} x 200, Kafka acknowledged ${acked:-0} records;" \
        "$(awk -v i="$(cat "$TMP/ingest-$c.rps")" -v f="$(cat "$TMP/floor-$c.rps")" \
            'BEGIN {printf "%.0f%% of the floor", 100 * i / f}')"
    kill "$INGEST_PID"; wait "$INGEST_PID" || true
done
echo "reproduce: bench/ingest/run.sh $BUILD"
