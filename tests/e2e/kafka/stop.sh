#!/usr/bin/env bash
# Stops the broker start.sh started (SIGTERM, then SIGKILL after 20 s) and
# removes its data. Usage: stop.sh WORK_DIR. Always exits 0.
WORK=$1
if [ -f "$WORK/pid" ]; then
  pid=$(cat "$WORK/pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$WORK/pid"
fi
rm -rf "$WORK/data"
exit 0
