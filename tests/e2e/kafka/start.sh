#!/usr/bin/env bash
# Starts a throwaway single-node Apache Kafka broker (KRaft, Java 17, jars from
# Maven Central, cached) for the end-to-end tests: PLAINTEXT on 127.0.0.1:29092
# and SASL_SSL (SCRAM-SHA-512 and PLAIN) on 127.0.0.1:29094. Makes a test CA and
# the broker's certificate with openssl and one user (SCRAM credentials added
# at format time, --add-scram; the same password for PLAIN).
# Usage: start.sh WORK_DIR   writes WORK_DIR/pid, WORK_DIR/bootstrap and
# WORK_DIR/tls/{ca.pem,scram-user,scram-password}; logs in WORK_DIR/logs.
# Env: see broker.sh. Exit 0 once serving. restart.sh and halt.sh keep the data.
set -euo pipefail
source "$(dirname "$0")/broker.sh"
WORK=$1

if [ -f "$WORK/pid" ] && kill -0 "$(cat "$WORK/pid")" 2>/dev/null; then
  broker_halt "$WORK"
fi
rm -rf "$WORK"; mkdir -p "$WORK/data" "$WORK/logs" "$WORK/tls"

if ! ls "$LIBS"/kafka_2.13-"$VERSION".jar >/dev/null 2>&1; then
  echo "fetching the Kafka broker jars from Maven Central into $LIBS"
  mkdir -p "$LIBS"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies -Dkafka.libs="$LIBS" \
      -Dkafka.version="$VERSION" -DincludeScope=runtime >"$WORK/logs/mvn.log" 2>&1 || { cat "$WORK/logs/mvn.log" >&2; exit 1; }
fi

# The test CA and the broker's certificate (for 127.0.0.1 and localhost).
TLS=$WORK/tls
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tcb e2e test CA" \
  -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$TLS/broker.key" -out "$TLS/broker.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$TLS/ext.cnf"
openssl x509 -req -in "$TLS/broker.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
  -CAcreateserial -days 2 -extfile "$TLS/ext.cnf" -out "$TLS/broker.crt" 2>/dev/null
# Kafka's PEM key store: an unencrypted PKCS#8 key, then the certificate chain.
openssl pkcs8 -topk8 -nocrypt -in "$TLS/broker.key" >"$TLS/broker.pem"
cat "$TLS/broker.crt" "$TLS/ca.pem" >>"$TLS/broker.pem"
echo "tcb-e2e" >"$TLS/scram-user"
openssl rand -hex 16 >"$TLS/scram-password"
chmod 600 "$TLS"/*.key "$TLS/scram-password" "$TLS/broker.pem"

sed -e "s#__DATA_DIR__#$WORK/data#" -e "s#__TLS_DIR__#$TLS#" -e "s#__PORT__#$PORT#g" \
    -e "s#__CONTROLLER_PORT__#$((PORT + 1))#g" -e "s#__SASL_PORT__#$((PORT + 2))#g" \
    -e "s#__SASL_USER__#$(cat "$TLS/scram-user")#g" \
    -e "s#__SASL_PASSWORD__#$(cat "$TLS/scram-password")#g" \
    "$HERE/server.properties" >"$WORK/server.properties"
printf '%s\n' "${TCB_KAFKA_EXTRA_PROPERTIES:-}" >>"$WORK/server.properties"
chmod 600 "$WORK/server.properties" # PLAIN's JAAS line holds the password
ID=$(java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid | tail -1)
java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format -t "$ID" \
     -c "$WORK/server.properties" \
     --add-scram "SCRAM-SHA-512=[name=$(cat "$TLS/scram-user"),password=$(cat "$TLS/scram-password")]" \
     >"$WORK/logs/format.log" 2>&1 || { cat "$WORK/logs/format.log" >&2; exit 1; }
broker_launch "$WORK"
