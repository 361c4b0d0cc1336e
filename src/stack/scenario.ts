import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as EsClient } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { heartbeatTopicFor } from '../config/worker-config.js';
import { migrateTarget } from '../db/targets.js';
import { createClient, quoteIdent, type PgSettings } from '../db/pg.js';
import { orLate } from '../shared/deadline.js';
import { loadStackConfig } from './config.js';
import {
  deleteConnector,
  loadConnector,
  stackConnectorEnv,
  waitRunning,
  DEFAULT_CONNECTOR_FILE,
} from './connector.js';
import { connectUrl } from './components/connect.js';
import { connectHeaders, connectorSecurityConfig, workerConnectEnv } from './components/connect-security.js';
import { esAccess, workerEsEnv } from './components/elasticsearch-security.js';
import { kafkaClientOptions, provisionPipeline, workerKafkaEnv } from './components/kafka-security.js';
import { workerReportingEnv } from './components/postgres-security.js';
import { workerRegistryEnv } from './components/registry-security.js';
import { bootstrapServers } from './components/kafka-cluster.js';
import { ccompatUrl } from './components/registry.js';

const REPO = join(import.meta.dirname, '../..');

/**
 * One isolated world per test on the shared native stack: its own source database, reporting
 * database, Debezium connector (own slot and topic prefix), index prefix, consumer group and
 * dead-letter topic. Nothing a scenario does can change another's counts. Always torn down.
 */
export class Scenario {
  readonly id = `e2e${randomBytes(4).toString('hex')}`;
  readonly stack = loadStackConfig();
  readonly source: PgSettings;
  readonly reporting: PgSettings;
  readonly topicPrefix = this.id;
  readonly indexPrefix = `${this.id}-`;
  readonly groupId = `${this.id}-worker`;
  readonly dlqTopic = `${this.id}.dlq`;
  readonly connector = `${this.id}-source`;
  /** As the stack's superusers: tests set up, inspect and clean up (the worker gets its own logins). */
  readonly es = esClient(this.stack);
  readonly kafka = new Kafka({
    clientId: this.id,
    brokers: bootstrapServers(this.stack).split(','),
    logLevel: logLevel.NOTHING,
    ...kafkaClientOptions(this.stack),
  });
  /** Secured stack: every worker's whole output is kept here too, so tests can scan it for secrets. */
  readonly workerLogDir = this.stack.security ? join(this.stack.dir, 'logs', 'e2e-workers') : undefined;
  private readonly workers = new Set<WorkerProcess>();
  sourceDb!: pg.Client;

  constructor() {
    const base = { host: '127.0.0.1', user: this.stack.pg.user, password: this.stack.pg.password };
    this.source = { ...base, port: this.stack.ports.sourcePg, database: `ride_${this.id}` };
    this.reporting = { ...base, port: this.stack.ports.reportingPg, database: `reporting_${this.id}` };
  }

  /** Databases migrated, connector RUNNING (its snapshot of whatever the source holds has begun). */
  async start(
    opts: { beforeConnector?: (db: pg.Client) => Promise<void>; connector?: Record<string, string> } = {},
  ): Promise<void> {
    // Secured stack: this scenario's topics, group and DLQ granted (ACLs) and created, as an
    // operator would for a new pipeline. No-op on the open stack.
    await provisionPipeline(this.stack, {
      topicPrefix: this.topicPrefix,
      dlqTopic: this.dlqTopic,
      groupId: this.groupId,
    });
    await migrateTarget('source', { settings: this.source });
    await migrateTarget('reporting', { settings: this.reporting });
    this.sourceDb = createClient(this.source);
    await this.sourceDb.connect();
    await opts.beforeConnector?.(this.sourceDb);
    await this.registerConnector(opts.connector);
  }

  /** `overrides`: connector settings on top of the project's file (e.g. a wider table.include.list). */
  async registerConnector(overrides: Record<string, string> = {}): Promise<void> {
    const req = loadConnector(join(REPO, DEFAULT_CONNECTOR_FILE), {
      ...stackConnectorEnv(this.stack),
      SOURCE_PGDB: this.source.database,
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
    });
    const config = {
      ...req.config,
      ...connectorSecurityConfig(this.stack),
      name: this.connector,
      'slot.name': this.id,
      ...overrides,
    };
    const res = await fetch(`${connectUrl(this.stack)}/connectors/${this.connector}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...connectHeaders(this.stack) },
      body: JSON.stringify(config),
    });
    if (!res.ok) throw new Error(`register ${this.connector}: ${res.status} ${await res.text()}`);
    await waitRunning(this.stack, this.connector, 120_000);
  }

  /** Restarts the connector and its task through the Connect REST API (as an operator would). */
  async restartConnector(): Promise<void> {
    const res = await fetch(
      `${connectUrl(this.stack)}/connectors/${this.connector}/restart?includeTasks=true`,
      { method: 'POST', headers: connectHeaders(this.stack) },
    );
    if (!res.ok && res.status !== 202 && res.status !== 204)
      throw new Error(`restart ${this.connector}: ${res.status} ${await res.text()}`);
    await waitRunning(this.stack, this.connector, 120_000);
  }

  workerEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      KAFKA_BROKERS: bootstrapServers(this.stack),
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      KAFKA_GROUP_ID: this.groupId,
      KAFKA_CLIENT_ID: this.id,
      DLQ_TOPIC: this.dlqTopic,
      SCHEMA_REGISTRY_URL: ccompatUrl(this.stack),
      ES_NODE: esAccess(this.stack).node,
      ES_INDEX_PREFIX: this.indexPrefix,
      REPORTING_PGHOST: this.reporting.host,
      REPORTING_PGPORT: String(this.reporting.port),
      REPORTING_PGDB: this.reporting.database,
      REPORTING_PGUSER: this.reporting.user,
      REPORTING_PGPASSWORD: this.reporting.password,
      LOG_LEVEL: 'warn',
      RETRY_MAX_MS: '2000',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      // The worker's capture watcher watches this scenario's own connector (secured: with
      // Connect's REST login).
      ...workerConnectEnv(this.stack, this.connector),
      // Secured stack: the worker's own least-privilege logins everywhere (none on the open stack).
      ...workerKafkaEnv(this.stack),
      ...workerRegistryEnv(this.stack),
      ...workerEsEnv(this.stack),
      ...workerReportingEnv(this.stack),
      ...extra,
    };
  }

  /** Starts `ride-cdc worker` as a real child process (so it can be killed -9). */
  async startWorker(extra: Record<string, string> = {}): Promise<WorkerProcess> {
    const w = await this.spawnWorker(extra);
    await w.waitReady(120_000);
    return w;
  }

  /** Starts a worker without waiting for /readyz (it may not get ready while a dependency is down). */
  async spawnWorker(extra: Record<string, string> = {}): Promise<WorkerProcess> {
    const port = await freePort();
    const logFile = this.workerLogDir && join(this.workerLogDir, `${this.id}-${this.workers.size + 1}.log`);
    const w = new WorkerProcess(this.workerEnv({ METRICS_PORT: String(port), ...extra }), port, logFile);
    this.workers.add(w);
    return w;
  }

  generatorEnv(): Record<string, string> {
    return {
      GENERATOR_PGHOST: this.source.host,
      GENERATOR_PGPORT: String(this.source.port),
      GENERATOR_PGDB: this.source.database,
      GENERATOR_PGUSER: this.source.user,
      GENERATOR_PGPASSWORD: this.source.password,
    };
  }

  /**
   * Polls `check` until it returns no differences or the time runs out; returns the last
   * differences (empty = converged). The pipeline is asynchronous, so "exact" means: reaches the
   * truth once the source stops changing, and stays there.
   */
  async converge<T>(check: () => Promise<T[]>, timeoutMs: number): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    let last: T[] = [];
    while (Date.now() < deadline) {
      last = await check();
      if (last.length === 0) {
        // Still exact a few seconds later: nothing was late and nothing is double-applied.
        await sleep(3000);
        last = await check();
        if (last.length === 0) return last;
      }
      await sleep(2000);
    }
    return last;
  }

  async stop(): Promise<void> {
    for (const w of this.workers) await w.kill('SIGKILL');
    await deleteConnector(this.stack, this.connector).catch(() => undefined);
    await this.sourceDb?.end().catch(() => undefined);
    await dropSlot(this.source, this.id);
    await dropDatabase(this.source);
    await dropDatabase(this.reporting);
    await this.es.indices
      .delete({ index: `${this.indexPrefix}*`, allow_no_indices: true, ignore_unavailable: true })
      .catch(() => undefined);
    await this.es.indices.deleteIndexTemplate({ name: `${this.indexPrefix}*` }).catch(() => undefined);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // Its CDC topics and DLQ, and Debezium's heartbeat topic of its prefix.
      const heartbeat = heartbeatTopicFor(this.topicPrefix);
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(this.id) || t === heartbeat);
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    } finally {
      await admin.disconnect();
    }
    await this.es.close();
  }
}

export class WorkerProcess {
  readonly child: ChildProcess;
  output = '';
  exited: Promise<number | null>;

  constructor(
    env: Record<string, string>,
    readonly port: number,
    readonly logFile?: string,
    /** The ride-cdc entry point to run (the compare bench also runs other commits' checkouts). */
    bin = join(REPO, 'bin/ride-cdc.js'),
    /** Options for node itself (e.g. --cpu-prof, which NODE_OPTIONS does not accept). */
    nodeArgs: readonly string[] = [],
  ) {
    if (logFile) mkdirSync(join(logFile, '..'), { recursive: true });
    this.child = spawn(process.execPath, [...nodeArgs, bin, 'worker'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-20_000);
      if (logFile) appendFileSync(logFile, b);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  async get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  }

  /** Value of one metric sample, summed over label sets that contain `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const { body } = await this.get('/metrics');
    let sum = 0;
    for (const line of body.split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+|NaN)$/.exec(line);
      if (!m || m[1] !== name) continue;
      if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`worker exited with ${this.child.exitCode}:\n${this.output}`);
      try {
        if ((await this.get('/readyz')).status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`worker not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  /**
   * Sends `signal` and waits for the exit. A worker still running `timeoutMs` later is killed -9
   * and the call throws with its output tail: a shutdown that hangs is a defect to see, not a
   * test timeout to guess at.
   */
  async kill(signal: NodeJS.Signals, timeoutMs = 150_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const code = await orLate(this.exited, timeoutMs);
    if (code !== 'late') return code;
    this.child.kill('SIGKILL');
    await this.exited;
    throw new Error(
      `worker still running ${timeoutMs} ms after ${signal}: killed -9; output tail:\n${this.output.slice(-4000)}`,
    );
  }
}

function esClient(stack: ReturnType<typeof loadStackConfig>): EsClient {
  const a = esAccess(stack);
  return new EsClient({
    node: a.node,
    ...(a.auth ? { auth: a.auth } : {}),
    ...(a.caFile ? { tls: { ca: readFileSync(a.caFile) } } : {}),
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function dropSlot(s: PgSettings, slot: string): Promise<void> {
  const c = createClient({ ...s, database: 'postgres' });
  await c.connect();
  try {
    for (let i = 0; i < 20; i++) {
      const r = await c.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (r.rowCount === 0) return;
      if (!r.rows[0].active) {
        await c.query('SELECT pg_drop_replication_slot($1)', [slot]);
        return;
      }
      await sleep(500);
    }
  } finally {
    await c.end();
  }
}

async function dropDatabase(s: PgSettings): Promise<void> {
  const c = createClient({ ...s, database: 'postgres' });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(s.database)} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
