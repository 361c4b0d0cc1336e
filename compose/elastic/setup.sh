#!/usr/bin/env bash
# One-shot Elasticsearch setup for compose, after Elastic's official docker-compose example.
#   certs      create a CA and a certificate for es01 in config/certs (once; kept in a volume)
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
    echo "certificates ready"
    ;;
  passwords)
    : "${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD}"
    : "${KIBANA_PASSWORD:?set KIBANA_PASSWORD}"
    for i in $(seq 1 60); do
      if curl -fsS --cacert "$certs/ca/ca.crt" -u "elastic:${ELASTIC_PASSWORD}" -H 'Content-Type: application/json' \
        -X POST https://es01:9200/_security/user/kibana_system/_password \
        -d "{\"password\":\"${KIBANA_PASSWORD}\"}" | grep -q '^{}'; then
        echo "kibana_system password set"
        exit 0
      fi
      echo "waiting for Elasticsearch ($i/60)"
      sleep 5
    done
    echo "could not set the kibana_system password" >&2
    exit 1
    ;;
  *)
    echo "usage: $0 certs|passwords" >&2
    exit 2
    ;;
esac
