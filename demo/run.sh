#!/usr/bin/env bash
# The one-command demo: installs what is missing (Debian, as root), builds the
# four binaries, starts kafka-dev-broker, clevertap-emulator (a local CleverTap),
# talon-ingest and clevertap-sink from one config file (config/example.yaml with
# this run's addresses), sends sample Talon.One webhooks with curl (the CleverTap
# partner guide's coupon payload, three Talon.One notifications, one webhook
# whose template Talon.One never filled), then shows what CleverTap received,
# what went to the dead-letter topic and why, and a few metrics. Everything it
# started is stopped on exit, Ctrl-C included. Secrets are made up per run.
#
# Usage: demo/run.sh [--bin-dir DIR] [--no-install] [--keep]
#   --bin-dir DIR  use these binaries instead of building into build/
#   --no-install   never run apt-get (print what is missing and stop)
#   --keep         keep the work directory (logs, config, record file)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=""
INSTALL=1
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) BIN=$(cd "$2" && pwd); shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# --- what it needs -----------------------------------------------------------
PACKAGES=(cmake ninja-build pkg-config gcc libc6-dev librdkafka-dev libcurl4-openssl-dev
          libjansson-dev libyaml-dev libmicrohttpd-dev libgnutls28-dev curl jq)
if [ -z "$BIN" ]; then need=("${PACKAGES[@]}"); else need=(curl jq); fi
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 2>/dev/null | awk '$1 == "ii" {print $2}')
missing=()
for p in "${need[@]}"; do grep -qx "$p" <<<"$installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$INSTALL" = 1 ] && [ "$(id -u)" -eq 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing packages: sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
fi

if [ -z "$BIN" ]; then
  say "building into build/ (RelWithDebInfo)"
  cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTCB_BUILD_TESTS=OFF >/dev/null
  cmake --build "$ROOT/build" --target talon-ingest clevertap-sink clevertap-emulator \
        kafka-dev-broker
  BIN=$ROOT/build/bin
fi

# --- everything this run starts is stopped on exit (Ctrl-C included) ---------
WORK=$(mktemp -d /tmp/tcb-demo-XXXXXX)
PIDS=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ ${#PIDS[@]} -gt 0 ]; then echo "demo: stopped ${PIDS[*]}"; fi
  if [ "$KEEP" = 1 ]; then echo "demo: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 130' INT
trap 'echo "demo: terminated"; exit 143' TERM

start() { # NAME LOG ARGS...: runs one binary in the background
  local name=$1 log=$2; shift 2
  "$BIN/$name" "$@" >"$log" 2>&1 &
  PIDS+=($!)
  echo "started $name (pid $!)"
}

wait_for() { # WHAT SECONDS COMMAND...: until the command succeeds
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "demo: $what did not come up; its log:" >&2
  tail -n 20 "$WORK"/*.log >&2 || true
  exit 1
}

# Secrets made up for this run: nothing ships with a default secret.
secret() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
export CLEVERTAP_PASSCODE_SHOP_EU
CLEVERTAP_PASSCODE_SHOP_EU=$(secret)
export TALON_NOTIFICATION_SECRET
TALON_NOTIFICATION_SECRET=$(secret)
ACCOUNT=W9R-ABC-123Z

say "starting kafka-dev-broker, clevertap-emulator, talon-ingest and clevertap-sink"
start kafka-dev-broker "$WORK/broker.log" --bootstrap-file "$WORK/bootstrap" \
      --topic talon.webhooks:4 --topic talon.webhooks.dlq:1
wait_for kafka-dev-broker 20 test -s "$WORK/bootstrap"
start clevertap-emulator "$WORK/emulator.log" --listen 127.0.0.1:0 --port-file "$WORK/emulator.port" \
      --account "$ACCOUNT:$CLEVERTAP_PASSCODE_SHOP_EU" --record "$WORK/clevertap.ndjson" \
      --latency-ms 50 --log-level warn
wait_for clevertap-emulator 20 test -s "$WORK/emulator.port"

# One config file for both daemons: the example, with this run's addresses.
CONFIG=$WORK/bridge.yaml
sed -e "s#brokers: \"127.0.0.1:9092\"#brokers: \"$(cat "$WORK/bootstrap")\"#" \
    -e "s#endpoint: \"http://127.0.0.1:8081\"#endpoint: \"http://127.0.0.1:$(cat "$WORK/emulator.port")\"#" \
    -e 's#listen: "127.0.0.1:8080"#listen: "127.0.0.1:0"#' \
    -e 's#metrics_listen: "127.0.0.1:946[45]"#metrics_listen: "127.0.0.1:0"#' \
    -e 's#linger_ms: 200 #linger_ms: 50  #' \
    -e 's#format: "json" #format: "logfmt"#' \
    "$ROOT/config/example.yaml" >"$CONFIG"
"$BIN/clevertap-sink" --config "$CONFIG" --check-config
start talon-ingest "$WORK/ingest.log" --config "$CONFIG" --port-file "$WORK/ingest.ports"
start clevertap-sink "$WORK/sink.log" --config "$CONFIG"
wait_for talon-ingest 20 test -s "$WORK/ingest.ports"
INGEST=$(sed -n 's/^WEBHOOK_PORT=//p' "$WORK/ingest.ports")
INGEST_OPS=$(sed -n 's/^OPS_PORT=//p' "$WORK/ingest.ports")
wait_for "talon-ingest's Kafka producer" 30 curl -sf "http://127.0.0.1:$INGEST_OPS/readyz"
wait_for clevertap-sink 20 grep -q "event=sink.started" "$WORK/sink.log"
SINK_OPS=$(sed -n 's/.*event=sink.started.*(port \([0-9]*\)).*/\1/p' "$WORK/sink.log" | head -1)
wait_for "clevertap-sink's partitions" 40 curl -sf "http://127.0.0.1:$SINK_OPS/readyz"

# --- the webhooks --------------------------------------------------------------
post_upload() { # FILE: as Talon.One's CleverTap webhook would (same URL path, same headers)
  curl -sS -w '  -> HTTP %{http_code}\n' "http://127.0.0.1:$INGEST/1/upload" \
       -H "X-CleverTap-Account-Id: $ACCOUNT" -H "X-CleverTap-Passcode: $CLEVERTAP_PASSCODE_SHOP_EU" \
       -H 'Content-Type: application/json' --data-binary "@$1"
}
post_notification() { # FILE: a Talon.One notification webhook
  curl -sS -w '  -> HTTP %{http_code}\n' "http://127.0.0.1:$INGEST/talon/notifications" \
       -H "X-Talon-Secret: $TALON_NOTIFICATION_SECRET" -H "X-UUID: $(cat /proc/sys/kernel/random/uuid)" \
       -H 'Content-Type: application/json' --data-binary "@$1"
}
say "sending Talon.One webhooks to talon-ingest (http://127.0.0.1:$INGEST)"
W=$ROOT/demo/webhooks
echo "1. the CleverTap partner guide's coupon webhook (POST /1/upload):"
post_upload "$W/coupon-generated.json"
echo "2. a CouponCreated notification (POST /talon/notifications; route welcome-coupons):"
post_notification "$W/coupon-created.json"
echo "3. a TierUpgrade notification (route tier-upgrades: an event and a profile update):"
post_notification "$W/tier-upgrade.json"
echo "4. a LoyaltyAddedDeductedPointsBalances notification (route points-balances):"
post_notification "$W/points-balance.json"
echo "5. a coupon webhook whose template Talon.One never filled (invalid):"
post_upload "$W/unrendered-template.json"

# Done when every partition is committed to its end: all final.
settled() {
  curl -sf "http://127.0.0.1:$SINK_OPS/metrics" |
    awk '/^tcb_sink_consumer_lag/ {lag += $2; n++} /^tcb_sink_messages_total/ {m = $2}
         END {exit !(n > 0 && lag == 0 && m >= 5)}'
}
wait_for "the sink's commits" 15 settled

say "what CleverTap received: $(wc -l <"$WORK/clevertap.ndjson") records (the emulator's --record file)"
jq . "$WORK/clevertap.ndjson"

say "what went to the dead-letter topic, and why (clevertap-sink --replay-dlq --dry-run)"
"$BIN/clevertap-sink" --config "$CONFIG" --replay-dlq --dry-run 2>/dev/null |
  sed -n -e 's/^would replay \(talon\.webhooks\.dlq:[0-9]*:[0-9]*\) /dead letter \1: /p'
echo "(fix the webhook in Talon.One, or put dead letters back with clevertap-sink --replay-dlq)"

say "a few metrics (clevertap-sink :$SINK_OPS/metrics, talon-ingest :$INGEST_OPS/metrics)"
curl -s "http://127.0.0.1:$SINK_OPS/metrics" |
  grep -E '^tcb_(sink_(messages|records|dead_letters|records_skipped)_total|upload_(requests|records_accepted)_total|sink_committed_offset)' || true
curl -s "http://127.0.0.1:$INGEST_OPS/metrics" |
  grep -E '^tcb_ingest_(requests|records_produced)_total' || true

say "stopping everything the demo started"
