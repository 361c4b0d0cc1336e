#!/usr/bin/env bash
# Kafka Connect of the secured compose stack (docker-compose.secure.yml), the counterpart of the
# native src/stack/components/connect-security.ts. Before the image's own entrypoint it writes,
# private to the connect user, the files that hold secrets and therefore cannot be committed:
#   rest-users.properties      connect-admin's password for BasicAuthSecurityRestExtension
#   rest-jaas.conf             the JAAS entry KafkaConnect pointing at it (-Djava.security.auth.login.config)
#   connector-secrets.properties  what ${file:...} references in the connector config resolve to:
#                              the registry login of the Avro converters, Debezium's PostgreSQL password
#   kafka-client.properties    sasl.jaas.config of principal connect, which the CONNECT_*SASL_JAAS_CONFIG
#                              settings reference (a JAAS line has spaces, which the image's
#                              variables-to-properties step cannot carry)
# RIDE_CDC_DRY_RUN=1 writes them and stops (tests/unit/compose-secure.test.ts compares them with
# the native stack's).
set -euo pipefail

dir=${RIDE_CDC_SECRETS_DIR:-/kafka/ride-cdc-secrets}
for v in STACK_KAFKA_CONNECT_PASSWORD STACK_CONNECT_REST_PASSWORD STACK_REGISTRY_CONNECT_PASSWORD STACK_DEBEZIUM_PGPASSWORD; do
  if [ -z "${!v:-}" ]; then
    echo "secure-entrypoint: $v is not set (npm run stack -- secrets --out compose/.env)" >&2
    exit 1
  fi
done

umask 077
mkdir -p "$dir"
printf 'connect-admin: %s\n' "$STACK_CONNECT_REST_PASSWORD" >"$dir/rest-users.properties"
printf 'KafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file="%s";\n};\n' \
  "$dir/rest-users.properties" >"$dir/rest-jaas.conf"
printf 'registry.username=connect\nregistry.password=%s\nsource.password=%s\n' \
  "$STACK_REGISTRY_CONNECT_PASSWORD" "$STACK_DEBEZIUM_PGPASSWORD" >"$dir/connector-secrets.properties"
printf 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="%s";\n' \
  "$STACK_KAFKA_CONNECT_PASSWORD" >"$dir/kafka-client.properties"

# The passwords are in the files now; the JVM and the connectors need not see them as variables.
unset STACK_KAFKA_CONNECT_PASSWORD STACK_CONNECT_REST_PASSWORD STACK_REGISTRY_CONNECT_PASSWORD STACK_DEBEZIUM_PGPASSWORD
export KAFKA_OPTS="-Djava.security.auth.login.config=$dir/rest-jaas.conf${KAFKA_OPTS:+ $KAFKA_OPTS}"

if [ -n "${RIDE_CDC_DRY_RUN:-}" ]; then
  echo "would run: /docker-entrypoint.sh $* with KAFKA_OPTS=$KAFKA_OPTS"
  exit 0
fi
exec /docker-entrypoint.sh "$@"
