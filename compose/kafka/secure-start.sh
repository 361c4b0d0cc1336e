#!/usr/bin/env bash
# One Kafka node of the secured compose stack (docker-compose.secure.yml), the counterpart of the
# native `stack up --secure` broker (src/stack/components/kafka-security.ts):
#   - server.properties from every KAFKA_* variable, by the image's own convention
#     (KAFKA_FOO_BAR → foo.bar, __ → _, ___ → -), plus what holds a secret: the keystore password
#     (generated with the certificates, compose/elastic/setup.sh) and the inter-broker SCRAM login;
#   - storage formatted once with the SCRAM-SHA-512 credentials of admin, connect and
#     ride-cdc-worker (KRaft keeps them in the metadata log), through a private java @argfile so no
#     password is on a command line;
#   - a client properties file for the healthcheck and kafka-*.sh tools, as admin.
# RIDE_CDC_DRY_RUN=1 writes the files and prints the format arguments instead of running anything
# (tests/unit/compose-secure.test.ts).
set -euo pipefail

conf=${RIDE_CDC_KAFKA_CONF:-/opt/kafka/config}
certs=${RIDE_CDC_KAFKA_CERTS:-/etc/kafka/ride-cdc-certs}
props="$conf/ride-cdc-secure.properties"
client="$conf/ride-cdc-admin.properties"
argfile="$conf/ride-cdc-format.args"

for v in CLUSTER_ID KAFKA_NODE_ID STACK_KAFKA_ADMIN_PASSWORD STACK_KAFKA_CONNECT_PASSWORD STACK_KAFKA_WORKER_PASSWORD; do
  if [ -z "${!v:-}" ]; then
    echo "secure-start: $v is not set (npm run stack -- secrets --out compose/.env)" >&2
    exit 1
  fi
done
if [ ! -r "$certs/keystore.password" ] || [ ! -r "$certs/kafka.p12" ]; then
  echo "secure-start: no keystore in $certs (the es-certs job creates it)" >&2
  exit 1
fi

umask 077
keystore_password=$(cat "$certs/keystore.password")
scram() {
  printf 'org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";' "$1" "$2"
}

{
  echo "# Written by compose/kafka/secure-start.sh at container start; holds secrets (0600)."
  for name in $(compgen -e | sort); do
    case "$name" in
      KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JMX_OPTS | KAFKA_LOG4J_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_GC_LOG_OPTS) continue ;;
      KAFKA_*) ;;
      *) continue ;;
    esac
    key=$(printf '%s' "${name#KAFKA_}" | tr '[:upper:]' '[:lower:]' | sed -e 's/___/-/g' -e 's/__/\x01/g' -e 's/_/./g' -e 's/\x01/_/g')
    printf '%s=%s\n' "$key" "${!name}"
  done
  echo "ssl.keystore.location=$certs/kafka.p12"
  echo "ssl.keystore.password=$keystore_password"
  echo "ssl.key.password=$keystore_password"
  echo "ssl.truststore.location=$certs/ca.crt"
  # The inter-broker listener (INTERNAL) logs in as the super user admin.
  echo "listener.name.internal.scram-sha-512.sasl.jaas.config=$(scram admin "$STACK_KAFKA_ADMIN_PASSWORD")"
} >"$props"

{
  echo "security.protocol=SASL_SSL"
  echo "sasl.mechanism=SCRAM-SHA-512"
  echo "sasl.jaas.config=$(scram admin "$STACK_KAFKA_ADMIN_PASSWORD")"
  echo "ssl.truststore.type=PEM"
  echo "ssl.truststore.location=$certs/ca.crt"
} >"$client"

# One argument per line, quoted (java @argfile syntax); passwords hold no quotes (the stack's
# secret rules, src/stack/security.ts).
{
  printf '"%s"\n' -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format --ignore-formatted -t "$CLUSTER_ID" -c "$props"
  printf '"%s"\n' --add-scram "SCRAM-SHA-512=[name=admin,password=$STACK_KAFKA_ADMIN_PASSWORD]"
  printf '"%s"\n' --add-scram "SCRAM-SHA-512=[name=connect,password=$STACK_KAFKA_CONNECT_PASSWORD]"
  printf '"%s"\n' --add-scram "SCRAM-SHA-512=[name=ride-cdc-worker,password=$STACK_KAFKA_WORKER_PASSWORD]"
} >"$argfile"

if [ -n "${RIDE_CDC_DRY_RUN:-}" ]; then
  echo "would run: java @$argfile && kafka-server-start.sh $props"
  exit 0
fi

# --ignore-formatted: a restart keeps the data and the credentials it was formatted with.
if ! java -Xmx256m "@$argfile"; then
  rm -f "$argfile"
  echo "secure-start: formatting the storage failed" >&2
  exit 1
fi
rm -f "$argfile"
exec /opt/kafka/bin/kafka-server-start.sh "$props"
