#!/usr/bin/env bash
# Starts a throwaway single-node Apache Kafka broker (KRaft, Java 17, jars from
# Maven Central, cached) for the end-to-end tests, on 127.0.0.1:29092.
# Usage: start.sh WORK_DIR   writes WORK_DIR/pid and WORK_DIR/bootstrap; logs in WORK_DIR/logs.
# Env: TCB_KAFKA_LIBS (jar cache, default ~/.cache/tcb-kafka-libs). Exit 0 once serving.
# The benchmarks run their own broker beside the tests' one: TCB_KAFKA_PORT and
# TCB_KAFKA_CONTROLLER_PORT (29092, 29093) move it, TCB_KAFKA_EXTRA_PROPERTIES
# (lines) is appended to server.properties.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$1
LIBS=${TCB_KAFKA_LIBS:-${HOME:-/root}/.cache/tcb-kafka-libs}
PORT=${TCB_KAFKA_PORT:-29092}
CONTROLLER_PORT=${TCB_KAFKA_CONTROLLER_PORT:-29093}
BOOTSTRAP=127.0.0.1:$PORT

if [ -f "$WORK/pid" ] && kill -0 "$(cat "$WORK/pid")" 2>/dev/null; then
  kill "$(cat "$WORK/pid")"; sleep 2
fi
rm -rf "$WORK"; mkdir -p "$WORK/data" "$WORK/logs"

if ! ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1; then
  echo "fetching the Kafka broker jars from Maven Central into $LIBS"
  mkdir -p "$LIBS"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies -Dkafka.libs="$LIBS" \
      -DincludeScope=runtime >"$WORK/logs/mvn.log" 2>&1 || { cat "$WORK/logs/mvn.log" >&2; exit 1; }
fi

sed -e "s#__DATA_DIR__#$WORK/data#" -e "s#:29092#:$PORT#g" -e "s#:29093#:$CONTROLLER_PORT#g" \
    "$HERE/server.properties" >"$WORK/server.properties"
printf '%s\n' "${TCB_KAFKA_EXTRA_PROPERTIES:-}" >>"$WORK/server.properties"
JAVA_OPTS=(-Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
           -Dlog4j2.configurationFile="file:$HERE/log4j2.properties" -Dkafka.logs.dir="$WORK/logs")
ID=$(java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid | tail -1)
java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format -t "$ID" \
     -c "$WORK/server.properties" >"$WORK/logs/format.log" 2>&1
java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.Kafka "$WORK/server.properties" \
     >"$WORK/logs/stdout.log" 2>&1 &
echo $! >"$WORK/pid"
for _ in $(seq 1 120); do
  if kcat -b "$BOOTSTRAP" -L -m 2 >/dev/null 2>&1; then
    echo "$BOOTSTRAP" >"$WORK/bootstrap"
    echo "kafka broker $(cat "$WORK/pid") serving on $BOOTSTRAP"
    exit 0
  fi
  kill -0 "$(cat "$WORK/pid")" 2>/dev/null || { tail -40 "$WORK/logs/stdout.log" >&2; exit 1; }
  sleep 0.5
done
echo "kafka broker did not answer within 60 s" >&2
kill "$(cat "$WORK/pid")"; exit 1
