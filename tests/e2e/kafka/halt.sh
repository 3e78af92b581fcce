#!/usr/bin/env bash
# Stops the broker's process (SIGTERM, SIGKILL after 30 s) and keeps its data, so
# restart.sh brings the same topics, offsets and groups back (the tests' broker
# outage). Usage: halt.sh WORK_DIR. Always exits 0.
source "$(dirname "$0")/broker.sh"
broker_halt "$1"
exit 0
