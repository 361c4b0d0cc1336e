import { Kafka, logLevel, type EachBatchPayload } from 'kafkajs';
import pg from 'pg';
import type { ChangeEvent } from '../../src/decode/change-event.js';
import { Decoder } from '../../src/decode/decoder.js';
import { RegistrySchemaSource } from '../../src/decode/schema-source.js';
import type { PgSettings } from '../../src/db/pg.js';
import { migrateTarget } from '../../src/db/targets.js';
import { projectToElasticsearch } from '../../src/project/project-es.js';
import { FAMILY, type DriverDelete, type DriverPatch } from '../../src/project/intents.js';
import { dayOf } from '../../src/project/row.js';
import { mergeDriverDoc } from '../../src/project/drivers/merge-latest.js';
import { projectRow } from '../../src/project/metrics/project-row.js';
import {
  eventRowId,
  isStateTable,
  type AnyState,
  type BookingState,
  type StateTable,
} from '../../src/project/metrics/state.js';
import { compareIds } from '../../src/project/row.js';
import { deleteStatesSql, upsertStatesSql } from '../../src/sink/mart/sql/state-sql.js';
import type { SqlStatement } from '../../src/sink/mart/sql/metric-sql.js';
import { writeMetricDeltas } from '../../src/sink/mart/mart-writes.js';
import type { Delta } from '../../src/project/metrics/delta.js';
import { replaceStatusHistorySql } from '../../src/sink/mart/sql/booking-sql.js';
import { statusHistory } from '../../src/project/bookings/status-history.js';
import { catalogSyncStatements } from '../../src/sink/mart/sql/metric-sql.js';
import { setupIndices } from '../../src/sink/elasticsearch/setup.js';
import { ccompatUrl } from '../../src/stack/components/registry.js';
import { esUrl } from '../../src/stack/components/elasticsearch.js';
import type { Scenario } from '../../src/stack/scenario.js';
import { dropDatabase } from './ride-cdc-drain.js';
import { peerResult, type PeerResult } from './peer-result.js';
import { ownCpuSeconds } from './proc-stats.js';

/**
 * This box's ceilings for the work of a drain: the same backlog read by a bare consumer, the same
 * Elasticsearch documents bulk-indexed, the same mart rows upserted — each with nothing else in
 * the way (no decode in the timed part, no reads before writes, no waiting between sinks).
 *
 * The documents and rows are prepared (untimed) from the backlog with the worker's own pure code:
 * decode → projectToElasticsearch / the mart projection folded against in-memory state, one unit
 * per Kafka fetch batch, as the worker sees them.
 */

export interface CeilingOptions {
  esBatchDocs: number;
  esConcurrency: number;
  pgConnections: number;
}

export interface Prepared {
  /** NDJSON bulk bodies of `esBatchDocs` operations each. */
  esBodies: string[];
  esDocs: number;
  /** Per fetch batch: the state/history statements and the KPI deltas the worker writes. */
  martUnits: { statements: SqlStatement[]; deltas: Delta[] }[];
  martRows: number;
  /** Time spent in decode + both projections (one core, in this process): the pure part of a drain. */
  decodeProjectSeconds: number;
}

const tableTopics = async (s: Scenario): Promise<string[]> => {
  const admin = s.kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(`${s.topicPrefix}.public.`));
  } finally {
    await admin.disconnect();
  }
};

/**
 * Reads the whole backlog once with a fresh group; `onBatch` sees every fetch batch, up to
 * `concurrency` partitions' batches at once.
 */
async function readAll(
  s: Scenario,
  total: number,
  group: string,
  concurrency: number,
  onBatch: (b: EachBatchPayload['batch']) => Promise<void> | void,
): Promise<number> {
  const kafka = new Kafka({
    clientId: group,
    brokers: [`127.0.0.1:${s.stack.ports.kafka}`],
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({
    groupId: group,
    maxBytesPerPartition: 10 * 1024 * 1024,
    maxBytes: 50 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: await tableTopics(s), fromBeginning: true });
  let seen = 0;
  let lastProgress = Date.now();
  const started = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      // kafkajs retries a batch whose handler throws, forever: fail the run instead, loudly.
      const stall = setInterval(() => {
        if (Date.now() - lastProgress > 60_000)
          reject(new Error(`${group}: no progress for 60 s at ${seen}/${total}`));
      }, 1000);
      const settle = (f: () => void) => {
        clearInterval(stall);
        f();
      };
      consumer
        .run({
          autoCommit: false,
          partitionsConsumedConcurrently: concurrency,
          eachBatch: async ({ batch }) => {
            try {
              await onBatch(batch);
            } catch (err) {
              settle(() => reject(err));
              throw err;
            }
            seen += batch.messages.length;
            lastProgress = Date.now();
            if (seen >= total) settle(resolve);
          },
        })
        .catch((err: unknown) => settle(() => reject(err)));
    });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }
  const seconds = (performance.now() - started) / 1000;
  await consumer.disconnect();
  return seconds;
}

/** Raw Kafka consumption: a bare kafkajs consumer touching every message, nothing else. */
export async function kafkaCeiling(s: Scenario, total: number): Promise<PeerResult> {
  const cpu0 = ownCpuSeconds();
  let bytes = 0;
  const seconds = await readAll(s, total, `${s.id}-ceiling-raw`, 3, (b) => {
    for (const m of b.messages) bytes += m.value?.length ?? 0;
  });
  return peerResult({
    name: 'ceiling: Kafka consume (bare kafkajs)',
    kind: 'ceiling',
    events: total,
    seconds,
    cpuSeconds: ownCpuSeconds() - cpu0,
    peakRssBytes: null,
    equalToTruth: null,
    extra: { valueBytes: bytes },
  });
}

/** Decodes the backlog and builds the worker's documents and mart writes (untimed). */
export async function prepareSinkWork(
  s: Scenario,
  total: number,
  opts: CeilingOptions,
  esPrefix: string,
): Promise<Prepared> {
  const decoder = new Decoder(new RegistrySchemaSource({ url: ccompatUrl(s.stack) }), s.topicPrefix);
  const lines: string[] = [];
  const esBodies: string[] = [];
  let esDocs = 0;
  const flush = (force: boolean) => {
    while (lines.length >= opts.esBatchDocs * 2 || (force && lines.length > 0)) {
      esBodies.push(`${lines.splice(0, opts.esBatchDocs * 2).join('\n')}\n`);
    }
  };
  const states = new Map<string, AnyState>();
  const martUnits: Prepared['martUnits'] = [];
  let martRows = 0;
  let pure = 0;
  // One batch at a time: the pure time is summed between awaits, where another batch would run.
  await readAll(s, total, `${s.id}-ceiling-prepare`, 1, async (b) => {
    let t = performance.now();
    const events: ChangeEvent[] = [];
    for (const m of b.messages) {
      const raw = { topic: b.topic, partition: b.partition, offset: m.offset, key: m.key, value: m.value };
      const d = decoder.decodeNow(raw) ?? (await decoder.decode(raw));
      if (d.kind === 'change') events.push(d.event);
    }
    // Elasticsearch: the documents the worker writes for this batch (driver docs merged per batch).
    const drivers = new Map<string, (DriverPatch | DriverDelete)[]>();
    const intents = projectToElasticsearch(events);
    pure += performance.now() - t;
    for (const i of intents) {
      if (i.kind === 'timeseries-doc') {
        const meta = { _index: `${esPrefix}${i.family}-${dayOf(i.timestamp)}`, _id: i.id };
        if (i.mode === 'create') lines.push(JSON.stringify({ create: meta }), JSON.stringify(i.doc));
        else
          lines.push(JSON.stringify({ update: meta }), JSON.stringify({ doc: i.doc, doc_as_upsert: true }));
        esDocs++;
      } else if (i.kind === 'driver-patch' || i.kind === 'driver-delete') {
        const list = drivers.get(i.driverId) ?? [];
        list.push(i);
        drivers.set(i.driverId, list);
      }
    }
    for (const [id, ops] of drivers) {
      const doc = mergeDriverDoc(null, ops).doc;
      if (!doc) continue;
      lines.push(
        JSON.stringify({ index: { _index: `${esPrefix}${FAMILY.driverLatest}`, _id: id } }),
        JSON.stringify(doc),
      );
      esDocs++;
    }
    flush(false);
    // Mart: fold the batch's rows onto the in-memory state, exactly as the sink does onto the stored one.
    const groups = new Map<string, { table: StateTable; id: string; events: ChangeEvent[] }>();
    for (const e of events) {
      if (!isStateTable(e.table)) continue;
      const id = eventRowId(e);
      if (id === null) continue;
      const k = `${e.table}|${id}`;
      const g = groups.get(k) ?? { table: e.table, id, events: [] };
      g.events.push(e);
      groups.set(k, g);
    }
    if (groups.size === 0) return;
    const statements: SqlStatement[] = [];
    const deltas: Delta[] = [];
    t = performance.now();
    const byTable = new Map<
      StateTable,
      { up: AnyState[]; del: string[]; bookings: string[]; history: ReturnType<typeof statusHistory> }
    >();
    for (const g of [...groups.values()].sort((a, b) => compareIds(a.id, b.id))) {
      const k = `${g.table}|${g.id}`;
      const prev = states.get(k) ?? null;
      const { next, deltas: d } = projectRow(g.table, prev, g.events);
      deltas.push(...d);
      const t = byTable.get(g.table) ?? { up: [], del: [], bookings: [], history: [] };
      if (next) {
        states.set(k, next);
        t.up.push(next);
      } else if (prev) {
        states.delete(k);
        t.del.push(g.id);
      }
      if (g.table === 'bookings') {
        t.bookings.push(g.id);
        t.history.push(...statusHistory(next as BookingState | null));
      }
      byTable.set(g.table, t);
    }
    pure += performance.now() - t;
    for (const [table, r] of byTable) {
      const up = upsertStatesSql(table, r.up);
      if (up) statements.push(up);
      statements.push(...deleteStatesSql(table, r.del), ...replaceStatusHistorySql(r.bookings, r.history));
      martRows += r.up.length + r.del.length + r.history.length;
    }
    martRows += deltas.length;
    martUnits.push({ statements, deltas });
  });
  flush(true);
  return { esBodies, esDocs, martUnits, martRows, decodeProjectSeconds: pure / 1000 };
}

async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, slot: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, slot) => {
      while (next < items.length) await fn(items[next++]!, slot);
    }),
  );
}

async function loadEs(url: string, bodies: readonly string[], concurrency: number): Promise<number> {
  const started = performance.now();
  await runPool(bodies, concurrency, async (body) => {
    const res = await fetch(`${url}/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    if (!res.ok) throw new Error(`bulk: ${res.status} ${await res.text()}`);
    const r = (await res.json()) as {
      errors: boolean;
      items: Record<string, { status: number; error?: unknown }>[];
    };
    if (r.errors) {
      const bad = r.items.map((i) => Object.values(i)[0]!).find((i) => i.status >= 300 && i.status !== 409);
      if (bad) throw new Error(`bulk item failed: ${JSON.stringify(bad)}`);
    }
  });
  return (performance.now() - started) / 1000;
}

async function loadPg(
  settings: PgSettings,
  units: Prepared['martUnits'],
  connections: number,
): Promise<number> {
  const pool = new pg.Pool({ ...settings, max: connections });
  try {
    for (const st of catalogSyncStatements()) await pool.query(st.text, st.values);
    const started = performance.now();
    await runPool(units, connections, async (u) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        for (const st of u.statements) await c.query(st.text, st.values);
        await writeMetricDeltas(c, u.deltas);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    });
    return (performance.now() - started) / 1000;
  } finally {
    await pool.end();
  }
}

/**
 * Elasticsearch alone, PostgreSQL alone, then both at once (as the pipeline runs them), each into
 * fresh indices / a fresh migrated reporting database.
 */
export async function sinkCeilings(
  s: Scenario,
  total: number,
  opts: CeilingOptions,
): Promise<{ rows: PeerResult[]; decodeProjectPerCore: number }> {
  const url = esUrl(s.stack);
  const prep = await prepareSinkWork(s, total, opts, `${s.id}-ceil-PLACEHOLDER-`);
  console.log(
    `compare:   prepared ${prep.esDocs} documents in ${prep.esBodies.length} bulk bodies, ${prep.martRows} mart rows in ${prep.martUnits.length} transactions`,
  );
  const out: PeerResult[] = [];
  const run = async (tag: string, es: boolean, pgOn: boolean): Promise<{ seconds: number; cpu: number }> => {
    const prefix = `${s.id}-ceil${tag}-`;
    const bodies = prep.esBodies.map((b) => b.replaceAll(`${s.id}-ceil-PLACEHOLDER-`, prefix));
    const reporting: PgSettings = { ...s.reporting, database: `${s.reporting.database}_ceil${tag}` };
    if (es) await setupIndices(s.es, prefix);
    if (pgOn) await migrateTarget('reporting', { settings: reporting });
    const cpu0 = ownCpuSeconds();
    const started = performance.now();
    console.log(`compare:   sink ceiling ${tag} …`);
    try {
      await Promise.all([
        es ? loadEs(url, bodies, opts.esConcurrency) : null,
        pgOn ? loadPg(reporting, prep.martUnits, opts.pgConnections) : null,
      ]);
      return { seconds: (performance.now() - started) / 1000, cpu: ownCpuSeconds() - cpu0 };
    } finally {
      if (pgOn) await dropDatabase(reporting);
    }
  };
  const es = await run('es', true, false);
  out.push(
    peerResult({
      name: `ceiling: Elasticsearch bulk (${opts.esBatchDocs} docs × ${opts.esConcurrency} in flight)`,
      kind: 'ceiling',
      events: total,
      seconds: es.seconds,
      cpuSeconds: es.cpu,
      peakRssBytes: null,
      equalToTruth: null,
      extra: { docs: prep.esDocs, docsPerSecond: prep.esDocs / es.seconds },
    }),
  );
  const pgOnly = await run('pg', false, true);
  out.push(
    peerResult({
      name: `ceiling: PostgreSQL multi-row upserts (${opts.pgConnections} connections)`,
      kind: 'ceiling',
      events: total,
      seconds: pgOnly.seconds,
      cpuSeconds: pgOnly.cpu,
      peakRssBytes: null,
      equalToTruth: null,
      extra: {
        rows: prep.martRows,
        rowsPerSecond: prep.martRows / pgOnly.seconds,
        units: prep.martUnits.length,
      },
    }),
  );
  const both = await run('both', true, true);
  out.push(
    peerResult({
      name: 'ceiling: Elasticsearch + PostgreSQL together',
      kind: 'ceiling',
      events: total,
      seconds: both.seconds,
      cpuSeconds: both.cpu,
      peakRssBytes: null,
      equalToTruth: null,
      extra: { docs: prep.esDocs, rows: prep.martRows },
    }),
  );
  return { rows: out, decodeProjectPerCore: total / prep.decodeProjectSeconds };
}
