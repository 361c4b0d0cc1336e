/**
 * vitest globalSetup for the `integration` project: brings the native stack up through src/stack
 * (reusing it when it is already running), registers the Debezium connector, and shares the
 * endpoints with the test files through `inject('stack')` and the environment.
 *
 * Teardown stops the stack only if this run started it: a developer's running stack survives the
 * tests, and RIDE_CDC_KEEP_STACK=1 keeps a stack this run started (for a quick second run).
 */
import type { TestProject } from 'vitest/node';
import { ccompatUrl, registryUrl } from '../../src/stack/components/registry.js';
import { connectUrl } from '../../src/stack/components/connect.js';
import { esUrl } from '../../src/stack/components/elasticsearch.js';
import { bootstrapServers, testBrokerCount } from '../../src/stack/components/kafka-cluster.js';
import { registerConnector } from '../../src/stack/connector.js';
import { down, isUp, loadStackConfig, up } from '../../src/stack/index.js';

export interface StackEndpoints {
  kafkaBrokers: string;
  schemaRegistryUrl: string;
  apicurioUrl: string;
  connectUrl: string;
  esUrl: string;
  source: { host: string; port: number; user: string; password: string; database: string };
  reporting: { host: string; port: number; user: string; password: string; database: string };
  topicPrefix: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A fresh stack is the original deployment's 3-broker cluster (the broker fault scenarios need
  // it); an existing one keeps its size. Exported so every test file's loadStackConfig() agrees.
  process.env.STACK_KAFKA_BROKERS = String(await testBrokerCount(loadStackConfig()));
  const cfg = loadStackConfig();
  const wasUp = await isUp(cfg);
  const t0 = Date.now();
  const log = (l: string) => process.stderr.write(`[stack] ${l}\n`);
  // adoptForeign: a healthy stack started from another checkout is reused, never stopped.
  const results = await up({ cfg, log, adoptForeign: true });
  const startedHere = results.some((r) => r.action === 'started');
  await registerConnector(cfg, { waitMs: 180_000 });
  log(
    `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${startedHere ? 'started by this run' : 'reused the running stack'}; Kafka ${bootstrapServers(cfg)})`,
  );

  const endpoints: StackEndpoints = {
    kafkaBrokers: bootstrapServers(cfg),
    schemaRegistryUrl: ccompatUrl(cfg),
    apicurioUrl: registryUrl(cfg),
    connectUrl: connectUrl(cfg),
    esUrl: esUrl(cfg),
    source: {
      host: '127.0.0.1',
      port: cfg.ports.sourcePg,
      user: cfg.pg.user,
      password: cfg.pg.password,
      database: cfg.pg.sourceDb,
    },
    reporting: {
      host: '127.0.0.1',
      port: cfg.ports.reportingPg,
      user: cfg.pg.user,
      password: cfg.pg.password,
      database: cfg.pg.reportingDb,
    },
    topicPrefix: process.env.KAFKA_TOPIC_PREFIX ?? 'ride',
  };
  project.provide('stack', endpoints);
  // Suites that read their configuration the way the worker does (from env) find the stack too.
  const env: Record<string, string> = {
    KAFKA_BROKERS: endpoints.kafkaBrokers,
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    CONNECT_URL: endpoints.connectUrl,
    ES_NODE: endpoints.esUrl,
    SOURCE_PGHOST: endpoints.source.host,
    SOURCE_PGPORT: String(endpoints.source.port),
    REPORTING_PGHOST: endpoints.reporting.host,
    REPORTING_PGPORT: String(endpoints.reporting.port),
    REPORTING_PGDB: endpoints.reporting.database,
    SOURCE_PGDB: endpoints.source.database,
  };
  for (const [k, v] of Object.entries(env)) process.env[k] ??= v;

  return async () => {
    if (wasUp || !startedHere || process.env.RIDE_CDC_KEEP_STACK === '1') {
      log('leaving the stack running');
      return;
    }
    await down({ cfg, log });
  };
}
