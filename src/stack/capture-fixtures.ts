/**
 * Captures real Debezium messages from the running native stack into tests/fixtures/debezium/, so
 * the decoder can be unit-tested without services.  Run:  npx tsx src/stack/capture-fixtures.ts
 *
 * Isolation: the changes run in a scratch database (ride_fixture_db, created from
 * mart-sql/source and dropped afterwards) on the source server, through a throw-away connector with
 * its own slot, so ride_hailing_db, the main connector and its topics are untouched. The connector
 * uses topic.prefix=ride like the real one, so key/value bytes and schemas are exactly what the
 * real pipeline produces; a RegexRouter only moves its topics under a run-unique prefix, which the
 * files strip again (topic = "ride.public.<table>"). One visible difference: source.db is
 * "ride_fixture_db".
 *
 * Output: <table>.json and heartbeat.json ({topic, partition, offset, key, value (base64 | null),
 * headers, label}), schemas.json (id → Avro schema JSON for every id in those bytes),
 * type_zoo.emitted.json (what Debezium emitted per PostgreSQL type) and manifest.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { format } from 'prettier';
import { pgClient } from './components/postgres.js';
import { ccompatUrl, registryUrl } from './components/registry.js';
import { loadStackConfig } from './config.js';
import {
  DEFAULT_CONNECTOR_FILE,
  deleteConnector,
  loadConnector,
  stackConnectorEnv,
  waitRunning,
} from './connector.js';
import { connectUrl } from './components/connect.js';
import { RawAvro, toJson } from './fixtures/raw-avro.js';
import { type Expectation, TYPE_ZOO_DDL, seed, stream } from './fixtures/scenario.js';
import { applySourceSchema } from './source-schema.js';
import { CAPTURED_TABLES } from '../config/captured-tables.js';
import { APICURIO_SERVER_VERSION, APICURIO_VERSION, DEBEZIUM_VERSION, KAFKA_VERSION } from './versions.js';

const DB = 'ride_fixture_db';
const TABLES = [...CAPTURED_TABLES, 'type_zoo'];
const KEY_COLUMN: Record<string, string> = { driver_locations: 'driver_id' };
const OUT = resolve(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'debezium');

/** Formatted the way `npm run lint` (prettier --check tests) expects. */
async function writeJson(file: string, data: unknown): Promise<void> {
  await writeFile(
    resolve(OUT, file),
    await format(JSON.stringify(data), { parser: 'json', printWidth: 110 }),
  );
}

interface Captured {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  label?: string;
  /** Decoded, only for matching and labelling; not written. */
  decodedKey?: Record<string, unknown> | null;
  decodedValue?: Record<string, unknown> | null;
}

const cfg = loadStackConfig();
const tag = randomBytes(3).toString('hex');
const route = `fixture${tag}`;
const name = `ride-cdc-fixture-${tag}`;
const slot = `ride_cdc_fixture_${tag}`;
const log = (m: string) => process.stderr.write(`[capture] ${m}\n`);
const kafka = new Kafka({
  clientId: 'ride-cdc-capture',
  brokers: [`127.0.0.1:${cfg.ports.kafka}`],
  logLevel: logLevel.NOTHING,
});
const avro = new RawAvro(registryUrl(cfg));
const topics = [...TABLES.map((t) => `${route}.ride.public.${t}`), `${route}.__debezium-heartbeat.ride`];

async function dropScratchDb(): Promise<void> {
  const admin = pgClient(cfg, cfg.ports.sourcePg, 'postgres');
  await admin.connect();
  try {
    // An inactive slot left by an interrupted run pins the database: drop those first.
    const slots = await admin.query<{ slot_name: string }>(
      'SELECT slot_name FROM pg_replication_slots WHERE database = $1 AND NOT active',
      [DB],
    );
    for (const s of slots.rows) await admin.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]);
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function waitSlotReleased(): Promise<void> {
  const admin = pgClient(cfg, cfg.ports.sourcePg, 'postgres');
  await admin.connect();
  try {
    for (let i = 0; i < 150; i++) {
      const r = await admin.query<{ active: boolean }>(
        'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      );
      if (r.rowCount === 0) return;
      if (!r.rows[0]?.active) {
        await admin.query('SELECT pg_drop_replication_slot($1)', [slot]);
        return;
      }
      await sleep(200);
    }
    log(`warning: slot ${slot} still active; drop it by hand`);
  } finally {
    await admin.end();
  }
}

function keyOf(c: Captured, table: string): number | undefined {
  const v = c.decodedKey?.[KEY_COLUMN[table] ?? 'id'];
  return v === undefined || v === null ? undefined : Number(v);
}

/** Assigns each expectation to the first unused captured message that matches it. */
function match(captured: Captured[], expected: Expectation[]): { missing: Expectation[] } {
  const used = new Set<Captured>();
  const missing: Expectation[] = [];
  for (const e of expected) {
    const topic = `ride.public.${e.table}`;
    const hit = captured.find(
      (c) =>
        !used.has(c) &&
        c.topic === topic &&
        keyOf(c, e.table) === e.id &&
        (e.op === 'tombstone' ? c.value === null : c.decodedValue?.op === e.op),
    );
    if (!hit) {
      missing.push(e);
      continue;
    }
    used.add(hit);
    const what = {
      r: 'snapshot read',
      c: 'insert',
      u: 'update',
      d: 'delete',
      tombstone: 'tombstone after delete',
    }[e.op];
    hit.label = `${what} ${e.table} ${KEY_COLUMN[e.table] ?? 'id'}=${e.id}${e.note ? ` (${e.note})` : ''}`;
  }
  return { missing };
}

async function waitExpected(
  captured: Captured[],
  expected: Expectation[],
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing: Expectation[] = expected;
  while (Date.now() < deadline) {
    missing = match(captured, expected).missing;
    if (missing.length === 0) return;
    await sleep(250);
  }
  throw new Error(
    `${what}: still missing after ${timeoutMs} ms: ${missing.map((m) => `${m.op} ${m.table}#${m.id}`).join(', ')}`,
  );
}

/** Field schemas of type_zoo's row record plus the values seen, for the report. */
function typeZooReport(schemas: Map<number, unknown>, captured: Captured[]): Record<string, unknown> {
  const rows = captured.filter((c) => c.topic === 'ride.public.type_zoo' && c.decodedValue);
  const first = rows[0];
  if (!first?.value) return {};
  const id = Buffer.from(first.value, 'base64').readInt32BE(1);
  const env = schemas.get(id) as { fields: { name: string; type: unknown[] }[] };
  const rowRecord = (env.fields.find((f) => f.name === 'before')?.type ?? []).find(
    (t) => typeof t === 'object',
  ) as {
    fields: { name: string; type: unknown }[];
  };
  const out: Record<string, unknown> = {};
  for (const f of rowRecord.fields) {
    out[f.name] = {
      avro: f.type,
      values: rows.map((r) => {
        const after = r.decodedValue?.after as Record<string, unknown> | null;
        return after ? JSON.parse(toJson(after[f.name] ?? null)) : null;
      }),
    };
  }
  return out;
}

async function main(): Promise<void> {
  log(`run ${tag}: scratch database ${DB}, connector ${name}, topics ${route}.*`);
  await dropScratchDb();
  const seedClient = pgClient(cfg, cfg.ports.sourcePg, 'postgres');
  await seedClient.connect();
  await seedClient.query(`CREATE DATABASE ${DB}`);
  await seedClient.end();
  await applySourceSchema(cfg, cfg.ports.sourcePg, DB);
  const db = pgClient(cfg, cfg.ports.sourcePg, DB);
  await db.connect();
  await db.query(TYPE_ZOO_DDL);
  const snapshotExpected = await seed(db);

  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: 3 })),
    waitForLeaders: true,
  });
  const captured: Captured[] = [];
  const consumer = kafka.consumer({ groupId: `ride-cdc-capture-${tag}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const errors: string[] = [];
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      try {
        captured.push({
          topic: topic.slice(route.length + 1),
          partition,
          offset: message.offset,
          key: message.key ? message.key.toString('base64') : null,
          value: message.value ? message.value.toString('base64') : null,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          decodedKey: message.key ? await avro.decode(message.key) : null,
          decodedValue: message.value ? await avro.decode(message.value) : null,
        });
      } catch (err) {
        errors.push(`${topic}/${partition}@${message.offset}: ${(err as Error).message}`);
      }
    },
  });

  const { config } = loadConnector(resolve(cfg.repoRoot, DEFAULT_CONNECTOR_FILE), stackConnectorEnv(cfg));
  Object.assign(config, {
    name,
    'database.dbname': DB,
    'slot.name': slot,
    'slot.drop.on.stop': 'true',
    'table.include.list': `${config['table.include.list']},public.type_zoo`,
    'heartbeat.interval.ms': '1000',
    transforms: 'route',
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.route.regex': '(.*)',
    'transforms.route.replacement': `${route}.$1`,
  });
  const res = await fetch(`${connectUrl(cfg)}/connectors/${name}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
  });
  if (!res.ok) throw new Error(`PUT ${name}: ${res.status} ${await res.text()}`);
  await waitRunning(cfg, name, 120_000);
  log('connector running; waiting for the snapshot');
  await waitExpected(captured, snapshotExpected, 'snapshot');
  log('snapshot captured; streaming changes');
  const streamExpected = await stream(db);
  await waitExpected(captured, [...snapshotExpected, ...streamExpected], 'streamed changes');
  const hbDeadline = Date.now() + 30_000;
  while (!captured.some((c) => c.topic.startsWith('__debezium-heartbeat')) && Date.now() < hbDeadline)
    await sleep(250);
  if (errors.length) throw new Error(`decode errors:\n${errors.join('\n')}`);

  await consumer.disconnect();
  await admin.disconnect();
  await db.end();
  await deleteConnector(cfg, name);
  await waitSlotReleased();

  // Files: one per table, in Kafka order per partition.
  await mkdir(OUT, { recursive: true });
  const byTopic = new Map<string, Captured[]>();
  for (const c of captured) {
    if (!c.label && c.topic.startsWith('__debezium-heartbeat')) c.label = 'heartbeat';
    if (!c.label) continue; // only the scenario's messages
    const list = byTopic.get(c.topic) ?? [];
    list.push(c);
    byTopic.set(c.topic, list);
  }
  const ids = new Set<number>();
  const files: Record<string, { topic: string; messages: number; labels: string[] }> = {};
  for (const [topic, list] of byTopic) {
    const heartbeat = topic.startsWith('__debezium-heartbeat');
    const kept = (heartbeat ? list.slice(0, 2) : list).sort(
      (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
    );
    for (const c of kept)
      for (const b64 of [c.key, c.value]) if (b64) ids.add(Buffer.from(b64, 'base64').readInt32BE(1));
    const file = heartbeat ? 'heartbeat.json' : `${topic.split('.').at(-1)}.json`;
    const messages = kept.map(({ decodedKey: _k, decodedValue: _v, ...m }) => ({ label: m.label, ...m }));
    await writeJson(file, { topic, messages });
    files[file] = { topic, messages: messages.length, labels: messages.map((m) => m.label as string) };
  }
  const schemas: Record<string, unknown> = {};
  for (const id of [...ids].sort((a, b) => a - b)) schemas[String(id)] = await avro.schema(id);
  await writeJson('schemas.json', schemas);
  await writeJson('type_zoo.emitted.json', typeZooReport(avro.schemas, captured));
  const { 'database.password': _pw, ...safeConfig } = config;
  await writeJson('manifest.json', {
    capturedAt: new Date().toISOString(),
    versions: {
      debezium: DEBEZIUM_VERSION,
      kafka: KAFKA_VERSION,
      apicurioRegistry: APICURIO_SERVER_VERSION,
      apicurioConverter: APICURIO_VERSION,
    },
    wireFormat:
      'Confluent: magic byte 0, 4-byte big-endian schema id (Apicurio contentId), Avro binary; no headers',
    topicPrefix: 'ride',
    sourceDb: DB,
    schemaRegistry: `ids resolve through ${ccompatUrl(cfg)}/schemas/ids/{id} on the live stack; schemas.json holds them for offline tests`,
    connectorConfig: safeConfig,
    files,
  });

  log(`wrote ${Object.keys(files).length} message files, ${ids.size} schemas to ${OUT}`);
}

/** Best effort, also after a failure: connector, slot, topics, subjects, scratch database. */
async function cleanup(): Promise<void> {
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      log(`cleanup: ${what}: ${(err as Error).message}`);
    }
  };
  await step('connector', () => deleteConnector(cfg, name));
  await step('slot', () => waitSlotReleased());
  const admin = kafka.admin();
  await step('topics', async () => {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const mine = topics.filter((t) => existing.has(t));
    if (mine.length) await admin.deleteTopics({ topics: mine });
  });
  await admin.disconnect().catch(() => {});
  await step('subjects', async () => {
    const subjects = (await (await fetch(`${ccompatUrl(cfg)}/subjects`)).json()) as string[];
    for (const s of subjects.filter((x) => x.startsWith(`${route}.`))) {
      await fetch(`${ccompatUrl(cfg)}/subjects/${encodeURIComponent(s)}`, { method: 'DELETE' });
      await fetch(`${ccompatUrl(cfg)}/subjects/${encodeURIComponent(s)}?permanent=true`, {
        method: 'DELETE',
      });
    }
  });
  await step('database', () => dropScratchDb());
}

main()
  .then(
    () => 0,
    (err) => {
      log(`FAILED: ${(err as Error).stack ?? err}`);
      return 1;
    },
  )
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  });
