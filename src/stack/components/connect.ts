import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ensureArtifacts } from '../artifacts.js';
import { type StackConfig, paths } from '../config.js';
import { httpGet } from '../health.js';
import { javaBin, kafkaClasspath, writeJavaConfig } from './kafka.js';
import { connectClusterSettings } from './kafka-cluster.js';
import type { Component } from './types.js';

export function connectUrl(cfg: StackConfig): string {
  return `http://127.0.0.1:${cfg.ports.connect}`;
}

export function connectComponent(cfg: StackConfig): Component {
  const p = paths(cfg);
  const confDir = resolve(p.conf, 'connect');
  const props = resolve(confDir, 'connect-distributed.properties');
  const log4j = resolve(confDir, 'log4j2.properties');

  return {
    name: 'connect',
    port: cfg.ports.connect,
    dependsOn: ['kafka'],
    stopSignal: 'SIGTERM',
    async prepare() {
      await ensureArtifacts(cfg);
      await mkdir(confDir, { recursive: true });
      const settings: Record<string, string | number> = {
        'bootstrap.servers': `127.0.0.1:${cfg.ports.kafka}`,
        'group.id': 'ride-cdc-connect',
        // Worker defaults only; the connector sets its own Avro converters.
        'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'config.storage.topic': '_connect-configs',
        'offset.storage.topic': '_connect-offsets',
        'status.storage.topic': '_connect-status',
        'config.storage.replication.factor': 1,
        'offset.storage.replication.factor': 1,
        'status.storage.replication.factor': 1,
        'offset.storage.partitions': 5,
        'status.storage.partitions': 3,
        listeners: `http://127.0.0.1:${cfg.ports.connect}`,
        'rest.advertised.host.name': '127.0.0.1',
        'rest.advertised.port': cfg.ports.connect,
        'plugin.path': resolve(p.dist, 'connect-plugins'),
        // Source offsets (the LSN Debezium confirms) flushed every second, so a Connect restart
        // replays little.
        'offset.flush.interval.ms': 1000,
        // Connector configs may reference ${env:VAR}; registration resolves them itself, this is
        // only a fallback.
        'config.providers': 'env',
        'config.providers.env.class': 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
        // Every broker, replicated internal topics, acks=all + idempotence (overrides the above).
        ...connectClusterSettings(cfg),
      };
      await writeJavaConfig(props, log4j, settings);
    },
    startSpec() {
      return {
        command: javaBin(cfg),
        args: [
          `-Xms256m`,
          `-Xmx${cfg.heap.connect}`,
          '-XX:+UseG1GC',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${log4j}`,
          '-cp',
          kafkaClasspath(cfg),
          'org.apache.kafka.connect.cli.ConnectDistributed',
          props,
        ],
        logFile: p.log('connect'),
        pidFile: p.pid('connect'),
        match: props,
      };
    },
    async probe() {
      // /connectors answers only once the worker joined its group and read the config topic.
      const body = await httpGet(`${connectUrl(cfg)}/connectors`);
      const plugins = JSON.parse(await httpGet(`${connectUrl(cfg)}/connector-plugins`)) as {
        class: string;
      }[];
      if (!plugins.some((x) => x.class === 'io.debezium.connector.postgresql.PostgresConnector')) {
        throw new Error('Debezium PostgresConnector plugin not loaded');
      }
      return `connectors ${body}`;
    },
  };
}
