# Shared by start.sh, restart.sh and halt.sh (sourced, not run): where the
# broker lives and how to start, await and stop its process.
# Env: TCB_KAFKA_VERSION (default 4.0.2, the pom's), TCB_KAFKA_LIBS (jar cache,
# default ~/.cache/tcb-kafka-libs, with -VERSION for another version),
# TCB_KAFKA_PORT (PLAINTEXT port, default 29092; the controller takes PORT+1,
# SASL_SSL PORT+2), TCB_KAFKA_EXTRA_PROPERTIES (lines appended to
# server.properties by start.sh; the benchmarks use it).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VERSION=${TCB_KAFKA_VERSION:-4.0.2}
if [ "$VERSION" = 4.0.2 ]; then
  LIBS=${TCB_KAFKA_LIBS:-${HOME:-/root}/.cache/tcb-kafka-libs}
else
  LIBS=${TCB_KAFKA_LIBS:-${HOME:-/root}/.cache/tcb-kafka-libs-$VERSION}
fi
PORT=${TCB_KAFKA_PORT:-29092}
BOOTSTRAP=127.0.0.1:$PORT
JAVA_OPTS=(-Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
           -Dlog4j2.configurationFile="file:$HERE/log4j2.properties")

# Starts kafka.Kafka on WORK/server.properties and waits (60 s) until it serves.
broker_launch() {
  local work=$1
  java "${JAVA_OPTS[@]}" -Dkafka.logs.dir="$work/logs" -cp "$LIBS/*" kafka.Kafka \
       "$work/server.properties" >>"$work/logs/stdout.log" 2>&1 &
  echo $! >"$work/pid"
  for _ in $(seq 1 120); do
    if kcat -b "$BOOTSTRAP" -L -m 2 >/dev/null 2>&1; then
      echo "$BOOTSTRAP" >"$work/bootstrap"
      echo "kafka broker $(cat "$work/pid") serving on $BOOTSTRAP"
      return 0
    fi
    kill -0 "$(cat "$work/pid")" 2>/dev/null || { tail -40 "$work/logs/stdout.log" >&2; return 1; }
    sleep 0.5
  done
  echo "kafka broker did not answer within 60 s" >&2
  kill "$(cat "$work/pid")"
  return 1
}

# Stops the broker process (SIGTERM: a controlled shutdown; SIGKILL after 30 s)
# and keeps its data. Returns 0 whether or not it ran.
broker_halt() {
  local work=$1 pid
  [ -f "$work/pid" ] || return 0
  pid=$(cat "$work/pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  rm -f "$work/pid"
  return 0
}
