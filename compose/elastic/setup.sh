#!/usr/bin/env bash
# One-shot Elasticsearch setup for compose, after Elastic's official docker-compose example.
#   certs      create a CA and a certificate for es01 in config/certs (once; kept in a volume),
#              and, when the secured overlay mounts config/kafka-certs, the brokers' keystore
#   passwords  wait for es01, then set the kibana_system password to $KIBANA_PASSWORD
set -euo pipefail
cd /usr/share/elasticsearch
certs=config/certs

case "${1:-}" in
  certs)
    if [ ! -f "$certs/ca/ca.crt" ]; then
      echo "creating CA"
      bin/elasticsearch-certutil ca --silent --pem -out "$certs/ca.zip"
      unzip -o -q "$certs/ca.zip" -d "$certs"
    fi
    if [ ! -f "$certs/es01/es01.crt" ]; then
      echo "creating certificate for es01"
      printf 'instances:\n  - name: es01\n    dns: [es01, localhost]\n    ip: [127.0.0.1]\n' > "$certs/instances.yml"
      bin/elasticsearch-certutil cert --silent --pem -out "$certs/certs.zip" --in "$certs/instances.yml" \
        --ca-cert "$certs/ca/ca.crt" --ca-key "$certs/ca/ca.key"
      unzip -o -q "$certs/certs.zip" -d "$certs"
    fi
    # Keys stay readable by uid 0/gid 0 only (Elasticsearch and Kibana run with gid 0). The CA
    # certificate is public: the ride-cdc containers (uid 1000, not in group 0) must read it for
    # ES_TLS_CA_FILE.
    chown -R root:root "$certs"
    find "$certs" -type d -exec chmod 755 {} \;
    find "$certs" -type f -exec chmod 640 {} \;
    chmod 644 "$certs/ca/ca.crt"
    # Secured compose (docker-compose.secure.yml) mounts the kafka-certs volume here: one PKCS#12
    # keystore for the three brokers (SAN kafka-1..3 and localhost; subject CN=kafka, the brokers'
    # principal on the mutual-TLS controller listener), signed by the same CA, with a random
    # keystore password beside it. Owned by the Kafka image's appuser (uid 1000), in a volume of
    # its own: the ride-cdc containers (also uid 1000) mount es-certs only.
    kcerts=config/kafka-certs
    if [ -d "$kcerts" ]; then
      if [ ! -f "$kcerts/kafka.p12" ]; then
        echo "creating the Kafka brokers' keystore"
        pw=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
        bin/elasticsearch-certutil cert --silent --ca-cert "$certs/ca/ca.crt" --ca-key "$certs/ca/ca.key" \
          --name kafka --dns kafka-1,kafka-2,kafka-3,localhost --ip 127.0.0.1 --pass "$pw" --out "$kcerts/kafka.p12"
        printf '%s' "$pw" >"$kcerts/keystore.password"
      fi
      cp "$certs/ca/ca.crt" "$kcerts/ca.crt"
      chown -R 1000:1000 "$kcerts"
      chmod 700 "$kcerts"
      chmod 600 "$kcerts/kafka.p12" "$kcerts/keystore.password"
      chmod 644 "$kcerts/ca.crt"
    fi
    echo "certificates ready"
    ;;
  passwords)
    : "${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD}"
    : "${KIBANA_PASSWORD:?set KIBANA_PASSWORD}"
    es() { curl -fsS --cacert "$certs/ca/ca.crt" -u "elastic:${ELASTIC_PASSWORD}" -H 'Content-Type: application/json' "$@"; }
    set_kibana=0
    for i in $(seq 1 60); do
      if es -X POST https://es01:9200/_security/user/kibana_system/_password \
        -d "{\"password\":\"${KIBANA_PASSWORD}\"}" | grep -q '^{}'; then
        echo "kibana_system password set"
        set_kibana=1
        break
      fi
      echo "waiting for Elasticsearch ($i/60)"
      sleep 5
    done
    if [ "$set_kibana" != 1 ]; then
      echo "could not set the kibana_system password" >&2
      exit 1
    fi
    # Secured compose: the worker's own user and role, the native stack's (worker-role.json is
    # src/stack/components/elasticsearch-security.ts esWorkerRole(), written out).
    if [ -n "${ES_WORKER_PASSWORD:-}" ]; then
      es -X PUT https://es01:9200/_security/role/ride_cdc_worker -d @/usr/local/share/ride-cdc/worker-role.json >/dev/null
      es -X PUT https://es01:9200/_security/user/ride-cdc-worker \
        -d "{\"password\":\"${ES_WORKER_PASSWORD}\",\"roles\":[\"ride_cdc_worker\"]}" >/dev/null
      echo "user ride-cdc-worker (role ride_cdc_worker) set"
    fi
    ;;
  *)
    echo "usage: $0 certs|passwords" >&2
    exit 2
    ;;
esac
