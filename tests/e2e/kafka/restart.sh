#!/usr/bin/env bash
# Starts the broker start.sh set up in WORK_DIR again, on the same data (after
# halt.sh), and waits until it serves. Usage: restart.sh WORK_DIR. Exit 0 once serving.
set -euo pipefail
source "$(dirname "$0")/broker.sh"
WORK=$1
[ -f "$WORK/server.properties" ] || { echo "no broker set up in $WORK (run start.sh)" >&2; exit 1; }
if [ -f "$WORK/pid" ] && kill -0 "$(cat "$WORK/pid")" 2>/dev/null; then
  echo "kafka broker $(cat "$WORK/pid") already serving on $BOOTSTRAP"
  exit 0
fi
broker_launch "$WORK"
