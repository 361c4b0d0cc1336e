import { readFileSync } from 'node:fs';
import { CAPTURED_TABLES as SOURCE_TABLES, type CapturedTable as SourceTable } from './captured-tables.js';
import { readPgSettings, REPORTING_PG_DEFAULTS, REPORTING_PG_PREFIX, type PgSettings } from '../db/pg.js';
import { EnvReader } from './env.js';
import { KPI_MIRROR_QUEUE_DEFAULTS } from '../sink/elasticsearch/kpi-mirror-queue.js';
import { CATALOG, METRICS } from '../project/metrics/catalog.js';

export { SOURCE_TABLES, type SourceTable };

export type OffsetReset = 'earliest' | 'latest';

export interface WorkerConfig {
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    topicPrefix: string;
    /** Captured tables consumed; topics are `<prefix>.public.<table>`. */
    tables: SourceTable[];
    /** Where to start when reporting_db holds no offset for a partition, per table. */
    offsetReset: Record<SourceTable, OffsetReset>;
    ssl: boolean;
    /** PEM bundle of CAs to trust for Kafka TLS (KAFKA_TLS_CA_FILE); implies ssl. */
    caFile?: string;
    sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
    dlqTopic: string;
    partitionsConsumedConcurrently: number;
    /** Fetch size bounds (kafkajs maxBytesPerPartition / maxBytes): how many events one batch can hold. */
    maxBytesPerPartition: number;
    maxBytes: number;
    sessionTimeoutMs: number;
  };
  registry: {
    url: string;
    username?: string;
    password?: string;
    /** An unknown schema id is dead-lettered only after this many definitive "unknown" answers… */
    unknownSchemaRetries: number;
    /** …spread over at least this long (see UnknownSchemaWait in src/decode/schema-source.ts). */
    unknownSchemaWaitMs: number;
  };
  elasticsearch: {
    node: string;
    username?: string;
    password?: string;
    apiKey?: string;
    caFile?: string;
    /** Prepended to every index name; tests use a random one. */
    indexPrefix: string;
    bulkMaxDocs: number;
    bulkMaxBytes: number;
    requestTimeoutMs: number;
    /** How often the KPI rows committed meanwhile are mirrored into kpi_buckets (KPI_MIRROR_INTERVAL_MS). */
    kpiMirrorIntervalMs: number;
  };
  reporting: PgSettings & {
    poolSize: number;
    /** lock_timeout and statement_timeout of every batch transaction. */
    lockTimeoutMs: number;
    statementTimeoutMs: number;
    /**
     * PostgreSQL synchronous_commit of the batch transactions. Off by default: a commit then does
     * not wait for its WAL flush, and a reporting_db crash can lose the last few hundred ms of
     * commits — their positions with them, in the same transaction, so those batches are replayed
     * from Kafka and nothing is lost or counted twice. It shortens the time the hot KPI rows stay
     * locked (the fsync), which is what concurrent batches wait on.
     */
    synchronousCommit: 'on' | 'off';
    /**
     * Group commit (src/sink/mart/group-commit.ts): batches of other partitions that arrive while
     * a mart transaction runs commit together in the next one, up to this many events (0: every
     * batch in a transaction of its own, as many at once as MAX_IN_FLIGHT_BATCHES).
     */
    groupMaxEvents: number;
    /**
     * The catalog KPIs this worker maintains (REPORTING_KPIS, comma list; unset: all). The others'
     * rows are left as they are — said at start and in ride_cdc_mart_kpis_not_maintained; turning
     * one back on needs `ride-cdc mart backfill --metric <name>` for the time it was off.
     */
    kpis: readonly string[] | null;
  };
  /**
   * Variables that fell back to the development stack's well-known credentials. Never silent: the
   * worker warns about each at start, so a deployment that forgot to set them is visible at once.
   */
  developmentDefaults: string[];
  pipeline: {
    /** Max batches processed at once across partitions (p-queue concurrency). */
    maxInFlightBatches: number;
    retryInitialMs: number;
    retryMaxMs: number;
    shutdownTimeoutMs: number;
    /** /readyz fails when there is a backlog but no batch committed for this long. */
    stuckAfterMs: number;
  };
  /**
   * The capture watcher (src/source/capture-watch.ts): off when CONNECT_URL is unset, because a
   * worker must not restart a connector it was not told about.
   */
  capture?: {
    connectUrl: string;
    /**
     * Basic-auth login of Connect's REST API (CONNECT_USERNAME / CONNECT_PASSWORD, both or neither),
     * e.g. the secured stack's BasicAuthSecurityRestExtension. Redacted from logs like every
     * `password` field (src/observe/logger.ts).
     */
    username?: string;
    password?: string;
    connector: string;
    /** Debezium's heartbeat topic: `<topic.heartbeat.prefix>.<topic.prefix>`. */
    heartbeatTopic: string;
    /** The watcher's consumer groups start with this (captureWatchGroupPrefix). */
    groupPrefix: string;
    intervalMs: number;
    restartInitialMs: number;
    restartMaxMs: number;
  };
  metricsPort: number;
  logLevel: string;
}

/** Reads and validates the whole configuration once; throws a ConfigError listing every bad value. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const r = new EnvReader(env);
  const tables = r.list('KAFKA_TABLES', [...SOURCE_TABLES]).filter((t) => {
    if ((SOURCE_TABLES as readonly string[]).includes(t)) return true;
    r.fail(`KAFKA_TABLES contains ${JSON.stringify(t)}: expected tables from ${SOURCE_TABLES.join(', ')}`);
    return false;
  }) as SourceTable[];

  const defaultReset = r.oneOf('KAFKA_OFFSET_RESET', ['earliest', 'latest'] as const, 'earliest');
  const offsetReset = Object.fromEntries(SOURCE_TABLES.map((t) => [t, defaultReset])) as Record<
    SourceTable,
    OffsetReset
  >;
  // e.g. KAFKA_OFFSET_RESET_OVERRIDES=driver_locations:latest,bookings:earliest
  for (const item of r.list('KAFKA_OFFSET_RESET_OVERRIDES', [])) {
    const [table, policy] = item.split(':');
    if (
      !table ||
      !(SOURCE_TABLES as readonly string[]).includes(table) ||
      (policy !== 'earliest' && policy !== 'latest')
    ) {
      r.fail(`KAFKA_OFFSET_RESET_OVERRIDES item ${JSON.stringify(item)}: expected <table>:earliest|latest`);
      continue;
    }
    offsetReset[table as SourceTable] = policy;
  }

  const saslMechanism = r.optional('KAFKA_SASL_MECHANISM');
  let sasl: WorkerConfig['kafka']['sasl'];
  if (saslMechanism) {
    const mechanism = saslMechanism.toLowerCase();
    const username = r.optional('KAFKA_SASL_USERNAME');
    const password = r.optional('KAFKA_SASL_PASSWORD');
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      r.fail(
        `KAFKA_SASL_MECHANISM=${JSON.stringify(saslMechanism)}: expected plain, scram-sha-256 or scram-sha-512`,
      );
    } else if (!username || !password) {
      r.fail('KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required');
    } else {
      sasl = { mechanism, username, password };
    }
  }

  const readable = (name: string): string | undefined => {
    const file = r.optional(name);
    if (file) {
      try {
        readFileSync(file);
      } catch {
        r.fail(`${name}=${JSON.stringify(file)}: file is not readable`);
      }
    }
    return file;
  };
  const caFile = readable('ES_TLS_CA_FILE');
  const kafkaCaFile = readable('KAFKA_TLS_CA_FILE');

  // The reporting login: both or neither. Neither = the development stack's user/password, said
  // out loud (developmentDefaults); one without the other is a mistake, not a fallback.
  const pgUser = r.optional('REPORTING_PGUSER');
  const pgPassword = r.optional('REPORTING_PGPASSWORD');
  if ((pgUser === undefined) !== (pgPassword === undefined))
    r.fail('REPORTING_PGUSER and REPORTING_PGPASSWORD must be set together');
  const developmentDefaults =
    pgUser === undefined && pgPassword === undefined ? ['REPORTING_PGUSER', 'REPORTING_PGPASSWORD'] : [];
  const esUser = r.optional('ES_USERNAME');
  const esPassword = r.optional('ES_PASSWORD');
  if ((esUser === undefined) !== (esPassword === undefined))
    r.fail('ES_USERNAME and ES_PASSWORD must be set together');

  const brokers = r.list('KAFKA_BROKERS', ['localhost:9092']);
  for (const b of brokers)
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) r.fail(`KAFKA_BROKERS item ${JSON.stringify(b)}: expected host:port`);

  const topicPrefix = r.str('KAFKA_TOPIC_PREFIX', 'ride');
  const groupId = r.str('KAFKA_GROUP_ID', 'ride-cdc-worker');
  const connectUrl = r.optional('CONNECT_URL');
  const connectUser = r.optional('CONNECT_USERNAME');
  const connectPassword = r.optional('CONNECT_PASSWORD');
  if ((connectUser === undefined) !== (connectPassword === undefined))
    r.fail('CONNECT_USERNAME and CONNECT_PASSWORD must be set together');
  // fetch() refuses URLs with credentials; say where they belong instead of failing every poll.
  if (connectUrl && /\/\/[^/@\s]*@/.test(connectUrl))
    r.fail('CONNECT_URL carries credentials: put them in CONNECT_USERNAME / CONNECT_PASSWORD');
  const capture: WorkerConfig['capture'] = {
    connectUrl: connectUrl ? r.url('CONNECT_URL', connectUrl).replace(/\/+$/, '') : '',
    username: connectUser,
    password: connectPassword,
    connector: r.str('CONNECTOR_NAME', 'ride-hailing-postgres'),
    heartbeatTopic: r.str('DEBEZIUM_HEARTBEAT_TOPIC', heartbeatTopicFor(topicPrefix)),
    groupPrefix: captureWatchGroupPrefix(groupId),
    intervalMs: r.int('CAPTURE_WATCH_INTERVAL_MS', 10_000, 500, 600_000),
    restartInitialMs: r.int('CONNECTOR_RESTART_INITIAL_MS', 10_000, 100, 3_600_000),
    restartMaxMs: r.int('CONNECTOR_RESTART_MAX_MS', 300_000, 100, 3_600_000),
  };

  const kpiList = r.list('REPORTING_KPIS', []);
  for (const k of kpiList)
    if (!METRICS.has(k))
      r.fail(
        `REPORTING_KPIS contains ${JSON.stringify(k)}: expected KPIs from ${CATALOG.map((m) => m.name).join(', ')}`,
      );
  const kpis = kpiList.length > 0 ? kpiList : null;

  const config: WorkerConfig = {
    kafka: {
      brokers,
      clientId: r.str('KAFKA_CLIENT_ID', 'ride-cdc'),
      groupId,
      topicPrefix,
      tables,
      offsetReset,
      ssl: r.bool('KAFKA_SSL', false) || kafkaCaFile !== undefined,
      caFile: kafkaCaFile,
      sasl,
      dlqTopic: r.str('DLQ_TOPIC', 'ride-cdc.dlq'),
      // 8, like MAX_IN_FLIGHT_BATCHES: more partitions' batches share each group commit, which
      // lowered p99 latency under steady load (measured in the README, Tests and benchmarks).
      partitionsConsumedConcurrently: r.int('KAFKA_PARTITIONS_CONCURRENCY', 8, 1, 256),
      // kafkajs' own defaults (1 MiB per partition, 10 MiB per fetch).
      maxBytesPerPartition: r.int('KAFKA_MAX_BYTES_PER_PARTITION', 1024 * 1024, 1024, 256 * 1024 * 1024),
      maxBytes: r.int('KAFKA_MAX_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      sessionTimeoutMs: r.int('KAFKA_SESSION_TIMEOUT_MS', 30_000, 6_000, 300_000),
    },
    registry: {
      url: r.url('SCHEMA_REGISTRY_URL', 'http://localhost:18081/apis/ccompat/v7'),
      username: r.optional('SCHEMA_REGISTRY_USERNAME'),
      password: r.optional('SCHEMA_REGISTRY_PASSWORD'),
      unknownSchemaRetries: r.int('SCHEMA_UNKNOWN_RETRIES', 5, 0, 100),
      unknownSchemaWaitMs: r.int('SCHEMA_UNKNOWN_WAIT_MS', 60_000, 0, 3_600_000),
    },
    elasticsearch: {
      node: r.url('ES_NODE', 'http://localhost:9200'),
      username: esUser,
      password: esPassword,
      apiKey: r.optional('ES_API_KEY'),
      caFile,
      indexPrefix: r.str('ES_INDEX_PREFIX', ''),
      bulkMaxDocs: r.int('ES_BULK_MAX_DOCS', 2000, 1, 100_000),
      bulkMaxBytes: r.int('ES_BULK_MAX_BYTES', 5 * 1024 * 1024, 1024, 100 * 1024 * 1024),
      requestTimeoutMs: r.int('ES_REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000),
      kpiMirrorIntervalMs: r.int('KPI_MIRROR_INTERVAL_MS', KPI_MIRROR_QUEUE_DEFAULTS.intervalMs, 50, 60_000),
    },
    reporting: {
      ...readPgSettings(r, REPORTING_PG_PREFIX, REPORTING_PG_DEFAULTS),
      poolSize: r.int('REPORTING_PG_POOL_SIZE', 8, 1, 100),
      lockTimeoutMs: r.int('REPORTING_LOCK_TIMEOUT_MS', 10_000, 100, 600_000),
      statementTimeoutMs: r.int('REPORTING_STATEMENT_TIMEOUT_MS', 60_000, 1000, 3_600_000),
      synchronousCommit: r.oneOf('REPORTING_SYNCHRONOUS_COMMIT', ['on', 'off'] as const, 'off'),
      groupMaxEvents: r.int('REPORTING_GROUP_MAX_EVENTS', 20_000, 0, 1_000_000),
      kpis,
    },
    pipeline: {
      maxInFlightBatches: r.int('MAX_IN_FLIGHT_BATCHES', 8, 1, 256),
      retryInitialMs: r.int('RETRY_INITIAL_MS', 200, 1, 60_000),
      retryMaxMs: r.int('RETRY_MAX_MS', 30_000, 1, 600_000),
      shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 30_000, 1000, 600_000),
      stuckAfterMs: r.int('READY_STUCK_AFTER_MS', 120_000, 1000, 3_600_000),
    },
    developmentDefaults,
    capture: connectUrl ? capture : undefined,
    metricsPort: r.int('METRICS_PORT', 9464, 0, 65535),
    logLevel: r.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, 'info'),
  };
  r.done();
  return config;
}

/** Debezium's heartbeat topic with the connector's `topic.heartbeat.prefix=__debezium-heartbeat`. */
export function heartbeatTopicFor(topicPrefix: string): string {
  return `__debezium-heartbeat.${topicPrefix}`;
}

/**
 * The capture watcher's consumer groups, one per worker process (`<prefix><host>.<pid>`): derived
 * from the worker's own group, so a secured cluster grants them with one prefixed ACL
 * (src/stack/components/kafka-acls.ts).
 */
export function captureWatchGroupPrefix(groupId: string): string {
  return `${groupId}.capture-watch.`;
}

export function topicFor(prefix: string, table: string): string {
  return `${prefix}.public.${table}`;
}

/** Inverse of topicFor; null for topics that are not captured tables (e.g. heartbeats). */
export function tableOfTopic(prefix: string, topic: string): string | null {
  const head = `${prefix}.public.`;
  return topic.startsWith(head) ? topic.slice(head.length) : null;
}
