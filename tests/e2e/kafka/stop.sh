#!/usr/bin/env bash
# Stops the broker start.sh started (SIGTERM, then SIGKILL after 30 s) and
# removes its data. Usage: stop.sh WORK_DIR. Always exits 0.
source "$(dirname "$0")/broker.sh"
broker_halt "$1"
rm -rf "$1/data"
exit 0
