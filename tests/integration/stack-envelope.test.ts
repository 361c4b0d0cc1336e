/**
 * The real pipeline, end to end at the wire: rows changed in ride_hailing_db come out of Kafka as
 * Debezium envelopes in Confluent wire format, decodable through the registry's Confluent API.
 * Asserts the RAW representations (before any normalisation by src/decode), because those are
 * what the decoder's unit tests and fixtures must match.
 *
 * Every row uses fresh random ids and every consumer a random group; waits are bounded.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadStackConfig } from '../../src/stack/config.js';
import {
  DEFAULT_CONNECTOR_FILE,
  loadConnector,
  stackConnectorEnv,
  waitRunning,
} from '../../src/stack/connector.js';

import { bigintLongType } from '../../src/stack/fixtures/raw-avro.js';
import { TOAST_PLACEHOLDER } from '../../src/decode/logical-types.js';

const stack = inject('stack');
const prefix = stack.topicPrefix;

// Debezium 3 puts nanosecond timestamps (ts_ns ≈ 1.8e18) in every envelope, beyond 2^53: longs
// decode to BigInt here (the same type the fixture tooling uses).
// avsc records every named type in the `registry` it is given, so each schema needs a fresh one
// (a shared object fails with "duplicate type name"); the client spreads these options per schema,
// which evaluates the getter each time.
const avroOptions = {
  get registry() {
    return { long: bigintLongType };
  },
};
const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl }, { AVRO: avroOptions } as never);
const kafka = new Kafka({
  clientId: 'stack-envelope-test',
  brokers: stack.kafkaBrokers.split(','), // every node of a cluster
  logLevel: logLevel.NOTHING,
});

type Rec = Record<string, unknown>;
interface Got {
  topic: string;
  partition: number;
  offset: string;
  keyId: number;
  valueId: number | null;
  key: Rec;
  value: Rec | null;
  headers: string[];
}

/** The registered schema for `id`, through the Confluent API the worker uses. */
async function schemaJson(id: number): Promise<Rec> {
  const res = await fetch(`${stack.schemaRegistryUrl}/schemas/ids/${id}`);
  const body = await res.text();
  if (!res.ok) throw new Error(`GET schemas/ids/${id} → ${res.status} ${body}`);
  return JSON.parse((JSON.parse(body) as { schema: string }).schema) as Rec;
}

const decode = async (buf: Buffer) => (await registry.decode(buf)) as Rec;

/** Consumes `topics` from their current ends (recorded before the changes) into `sink`. */
async function collectFrom(topics: string[], admin: Admin, sink: Got[]) {
  // A cluster that has just formed (3 brokers, RF 3) and freshly created topics may answer
  // NOT_CONTROLLER / NOT_LEADER for a while: retry, bounded.
  const retrying = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= 240) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
        await sleep(250);
      }
    }
  };
  await retrying('create topics', () =>
    admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: 3 })),
      waitForLeaders: true,
    }),
  );
  const starts = new Map<string, { partition: number; offset: string }[]>();
  for (const t of topics) starts.set(t, await retrying(`offsets of ${t}`, () => admin.fetchTopicOffsets(t)));
  const consumer = kafka.consumer({
    groupId: `stack-envelope-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      if (!message.key) return;
      // A decode failure must fail the test with its cause, not stall the consumer in retries.
      try {
        sink.push({
          topic,
          partition,
          offset: message.offset,
          keyId: message.key.readInt32BE(1),
          valueId: message.value ? message.value.readInt32BE(1) : null,
          key: await decode(message.key),
          value: message.value ? await decode(message.value) : null,
          headers: Object.keys(message.headers ?? {}),
        });
      } catch (err) {
        decodeErrors.push(`${topic}/${partition}@${message.offset}: ${(err as Error).message}`);
      }
    },
  });
  for (const [topic, offs] of starts)
    for (const o of offs) consumer.seek({ topic, partition: o.partition, offset: o.offset });
  return consumer;
}

const decodeErrors: string[] = [];

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (decodeErrors.length > 0)
      throw new Error(`decode failed while waiting for ${what}:\n${decodeErrors.join('\n')}`);
    const v = fn();
    if (v !== undefined) return v;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Unscaled two's-complement big-endian bytes → decimal string with `scale` digits. */
function decimalOf(buf: Buffer, scale: number): string {
  let n = 0n;
  for (const b of buf) n = (n << 8n) | BigInt(b);
  if (buf.length > 0 && (buf[0] as number) & 0x80) n -= 1n << BigInt(buf.length * 8);
  const neg = n < 0n;
  const s = (neg ? -n : n).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${scale ? `${s.slice(0, -scale)}.${s.slice(-scale)}` : s}`;
}

/** The Avro field schema of `after.<name>` (nullable unions unwrapped) in a registered value schema. */
async function fieldSchema(schemaId: number, name: string): Promise<Rec> {
  const env = await schemaJson(schemaId);
  // The row record is defined inline in `before`; `after` refers to it by name.
  const before = (env.fields as Rec[]).find((f) => f.name === 'before') as Rec;
  const value = (before.type as unknown[]).find((t) => typeof t === 'object') as Rec;
  expect(value.name).toBe('Value');
  const field = (value.fields as Rec[]).find((f) => f.name === name) as Rec;
  const t = field.type;
  return (Array.isArray(t) ? t.find((x) => x !== 'null') : t) as Rec;
}

describe('Debezium envelope through Kafka and the registry', () => {
  const db = new pg.Client(stack.source);
  let admin: Admin;
  const got: Got[] = [];
  let consumer: Awaited<ReturnType<typeof collectFrom>>;
  const zoneId = 700_000 + randomInt(200_000);
  const ids = { passenger: 0, driver: 0, booking: 0, rating: 0 };
  const bigMetadata = { note: randomBytes(9000).toString('base64'), channel: 'app' };

  beforeAll(async () => {
    await db.connect();
    admin = kafka.admin();
    await admin.connect();
    const topics = ['zones', 'passengers', 'drivers', 'bookings', 'ratings'].map(
      (t) => `${prefix}.public.${t}`,
    );
    consumer = await collectFrom(topics, admin, got);

    await db.query(
      `INSERT INTO zones (id, code, name, center_lat, center_lon, min_lat, max_lat, min_lon, max_lon, demand_weight)
       VALUES ($1, $2, 'Envelope test', 10.77, 106.70, 10.75, 10.79, 106.68, 106.72, 1.234)`,
      [zoneId, `T${zoneId}`],
    );
    ids.passenger = (
      await db.query(
        `INSERT INTO passengers (full_name, phone, home_zone_id) VALUES ('Envelope P', '+84000', $1) RETURNING id`,
        [zoneId],
      )
    ).rows[0].id;
    ids.driver = (
      await db.query(
        `INSERT INTO drivers (full_name, phone, vehicle_type, plate_number, status, home_zone_id)
         VALUES ('Envelope D', '+84001', 'car', '51A-00000', 'available', $1) RETURNING id`,
        [zoneId],
      )
    ).rows[0].id;
    ids.booking = (
      await db.query(
        `INSERT INTO bookings (passenger_id, vehicle_type, pickup_lat, pickup_lon, pickup_zone_id, dropoff_lat, dropoff_lon,
                               dropoff_zone_id, requested_at, estimated_fare, distance_km, payment_method, metadata)
         VALUES ($1, 'car', 10.76, 106.69, $2, 10.78, 106.71, $2, '2026-03-01T08:15:30.123456Z', 123.45, 4.321, 'card', $3)
         RETURNING id`,
        [ids.passenger, zoneId, JSON.stringify(bigMetadata)],
      )
    ).rows[0].id;
    // metadata untouched: with REPLICA IDENTITY DEFAULT its TOASTed value is not in the WAL record.
    await db.query(
      `UPDATE bookings SET status = 'accepted', driver_id = $2, accepted_at = now(), updated_at = now() WHERE id = $1`,
      [ids.booking, ids.driver],
    );
    ids.rating = (
      await db.query(
        `INSERT INTO ratings (booking_id, rater_type, rater_id, ratee_id, score, comment, rated_at)
         VALUES ($1, 'passenger', $2, $3, 5, 'fine', now()) RETURNING id`,
        [ids.booking, ids.passenger, ids.driver],
      )
    ).rows[0].id;
    await db.query('DELETE FROM ratings WHERE id = $1', [ids.rating]);
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await admin?.disconnect();
    // Leave no rows behind that other suites would count.
    await db.query('DELETE FROM bookings WHERE id = $1', [ids.booking]).catch(() => {});
    await db.query('DELETE FROM drivers WHERE id = $1', [ids.driver]).catch(() => {});
    await db.query('DELETE FROM passengers WHERE id = $1', [ids.passenger]).catch(() => {});
    await db.query('DELETE FROM zones WHERE id = $1', [zoneId]).catch(() => {});
    await db.end();
  });

  const find = (table: string, id: number, pred: (g: Got) => boolean) => () =>
    got.find((g) => g.topic === `${prefix}.public.${table}` && Number(g.key.id) === Number(id) && pred(g));
  const op = (o: string) => (g: Got) => g.value?.op === o;

  it('frames key and value in the Confluent wire format, without headers, resolvable by id', async () => {
    const zone = await waitFor('zone insert', find('zones', zoneId, op('c')));
    expect(zone.headers).toEqual([]);
    for (const id of [zone.keyId, zone.valueId as number]) {
      const res = await fetch(`${stack.schemaRegistryUrl}/schemas/ids/${id}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { schema: string }).schema).toContain('"connect.name"');
    }
    // Subjects follow the TopicNameStrategy.
    const subjects = (await (await fetch(`${stack.schemaRegistryUrl}/subjects`)).json()) as string[];
    expect(subjects).toEqual(
      expect.arrayContaining([`${prefix}.public.zones-key`, `${prefix}.public.zones-value`]),
    );
    expect(zone.key).toEqual({ id: zoneId });
  });

  it('insert: op c, before null, source position and times', async () => {
    const b = await waitFor('booking insert', find('bookings', ids.booking, op('c')));
    const v = b.value as Rec;
    expect(v.before).toBeNull();
    const src = v.source as Rec;
    expect(src.connector).toBe('postgresql');
    expect(src.db).toBe(stack.source.database);
    expect(src.table).toBe('bookings');
    expect(src.snapshot).toBe('false');
    expect(typeof src.lsn).toBe('bigint');
    expect(src.lsn as bigint).toBeGreaterThan(0n);
    expect(typeof src.txId).toBe('bigint');
    expect(Number(src.ts_ms)).toBeGreaterThan(Date.parse('2020-01-01'));
    expect(Number(v.ts_ms)).toBeGreaterThanOrEqual(Number(src.ts_ms));
  });

  it('raw logical types: precise decimal, ZonedTimestamp, Enum, Json, Uuid', async () => {
    const b = await waitFor('booking insert', find('bookings', ids.booking, op('c')));
    const after = (b.value as Rec).after as Rec;
    // decimal.handling.mode=precise: unscaled big-endian bytes, scale in the schema.
    expect(Buffer.isBuffer(after.estimated_fare)).toBe(true);
    expect(decimalOf(after.estimated_fare as Buffer, 2)).toBe('123.45');
    expect(decimalOf(after.distance_km as Buffer, 3)).toBe('4.321');
    expect(decimalOf(after.surge_multiplier as Buffer, 2)).toBe('1.00');
    // timestamptz: ISO-8601 string in UTC with the column's microseconds.
    expect(after.requested_at).toBe('2026-03-01T08:15:30.123456Z');
    expect(after.status).toBe('requested');
    expect(after.payment_method).toBe('card');
    expect(JSON.parse(after.metadata as string)).toEqual(bigMetadata);
    expect(after.booking_uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(after.accepted_at).toBeNull();

    const id = b.valueId as number;
    expect(await fieldSchema(id, 'estimated_fare')).toMatchObject({
      type: 'bytes',
      logicalType: 'decimal',
      scale: 2,
      precision: 12,
      'connect.name': 'org.apache.kafka.connect.data.Decimal',
    });
    expect(await fieldSchema(id, 'requested_at')).toMatchObject({
      type: 'string',
      'connect.name': 'io.debezium.time.ZonedTimestamp',
    });
    expect(await fieldSchema(id, 'status')).toMatchObject({
      type: 'string',
      'connect.name': 'io.debezium.data.Enum',
      'connect.parameters': { allowed: 'requested,accepted,arrived,in_progress,completed,cancelled' },
    });
    expect(await fieldSchema(id, 'metadata')).toMatchObject({
      type: 'string',
      'connect.name': 'io.debezium.data.Json',
    });
    expect(await fieldSchema(id, 'booking_uuid')).toMatchObject({
      type: 'string',
      'connect.name': 'io.debezium.data.Uuid',
    });
    expect(await fieldSchema(id, 'pickup_lat')).toBe('double');

    const z = await waitFor('zone insert', find('zones', zoneId, op('c')));
    expect(decimalOf(((z.value as Rec).after as Rec).demand_weight as Buffer, 3)).toBe('1.234');
    const d = await waitFor('driver insert', find('drivers', ids.driver, op('c')));
    expect(((d.value as Rec).after as Rec).status).toBe('available');
    expect(await fieldSchema(d.valueId as number, 'status')).toMatchObject({
      'connect.name': 'io.debezium.data.Enum',
      'connect.parameters': { allowed: 'offline,available,busy' },
    });
  });

  it('update: op u, before null (replica identity default), unchanged TOAST value as placeholder', async () => {
    const u = await waitFor('booking update', find('bookings', ids.booking, op('u')));
    const v = u.value as Rec;
    expect(v.before).toBeNull();
    const after = v.after as Rec;
    expect(after.status).toBe('accepted');
    expect(Number(after.driver_id)).toBe(Number(ids.driver));
    expect(after.accepted_at).toMatch(/Z$/);
    // The connector's own placeholder (real text equal to Debezium's default stays text).
    expect(after.metadata).toBe(TOAST_PLACEHOLDER);
    const c = await waitFor('booking insert', find('bookings', ids.booking, op('c')));
    expect((v.source as Rec).lsn as bigint).toBeGreaterThan(
      (c.value as Rec & { source: Rec }).source.lsn as bigint,
    );
  });

  it('delete: op d with the key in before, then a tombstone with the same key', async () => {
    const d = await waitFor('rating delete', find('ratings', ids.rating, op('d')));
    const v = d.value as Rec;
    expect(v.after).toBeNull();
    expect(Number((v.before as Rec).id)).toBe(Number(ids.rating));
    const tomb = await waitFor(
      'rating tombstone',
      find('ratings', ids.rating, (g) => g.value === null),
    );
    expect(tomb.partition).toBe(d.partition);
    expect(BigInt(tomb.offset)).toBe(BigInt(d.offset) + 1n);
    expect(tomb.valueId).toBeNull();
  });

  it('the Confluent API serves every schema id seen, including bookings (string default "{}")', async () => {
    // Apicurio 3.0.9 answered 400 "Failed to discover artifact type from content" here for the
    // bookings value schema (bookings.metadata DEFAULT '{}'); the stack runs 3.3.3 for that reason.
    await waitFor(
      'rating tombstone',
      find('ratings', ids.rating, (g) => g.value === null),
    );
    const seen = new Set(got.flatMap((g) => [g.keyId, ...(g.valueId === null ? [] : [g.valueId])]));
    const b = await waitFor('booking insert', find('bookings', ids.booking, op('c')));
    expect(seen.has(b.valueId as number)).toBe(true);
    for (const id of seen) expect((await schemaJson(id)).type).toBe('record');
  });
});

describe('snapshot reads', () => {
  // A second, throw-away connector snapshots the zones table into its own topic prefix, so op=r is
  // observed without touching the main connector's slot or offsets.
  const cfg = loadStackConfig();
  const tag = randomBytes(4).toString('hex');
  const name = `envelope-snapshot-${tag}`;
  const topicPrefix = `snap${tag}`;
  const slot = `snap_${tag}`;
  const db = new pg.Client(stack.source);
  const zoneId = 700_000 + randomInt(200_000);
  const got: Got[] = [];
  let admin: Admin;
  let consumer: Awaited<ReturnType<typeof collectFrom>> | undefined;

  beforeAll(async () => {
    await db.connect();
    admin = kafka.admin();
    await admin.connect();
    await db.query(
      `INSERT INTO zones (id, code, name, center_lat, center_lon, min_lat, max_lat, min_lon, max_lon)
       VALUES ($1, $2, 'Snapshot test', 10.7, 106.6, 10.6, 10.8, 106.5, 106.7)`,
      [zoneId, `S${zoneId}`],
    );
    const { config } = loadConnector(`${cfg.repoRoot}/${DEFAULT_CONNECTOR_FILE}`, stackConnectorEnv(cfg));
    Object.assign(config, {
      name,
      'topic.prefix': topicPrefix,
      'slot.name': slot,
      'slot.drop.on.stop': 'true',
      'table.include.list': 'public.zones',
      'snapshot.mode': 'initial',
    });
    consumer = await collectFrom([`${topicPrefix}.public.zones`], admin, got);
    const res = await fetch(`${stack.connectUrl}/connectors/${name}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config),
    });
    expect(res.ok).toBe(true);
    await waitRunning(cfg, name, 120_000);
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await fetch(`${stack.connectUrl}/connectors/${name}`, { method: 'DELETE' }).catch(() => {});
    // slot.drop.on.stop drops it when the task stops; make sure, once the walsender let go.
    for (let i = 0; i < 50; i++) {
      const r = await db.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (r.rowCount === 0) break;
      if (!r.rows[0].active) {
        await db.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => {});
        break;
      }
      await sleep(200);
    }
    const topics = (await admin.listTopics()).filter(
      (t) => t.startsWith(`${topicPrefix}.`) || t.endsWith(`.${topicPrefix}`),
    );
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => {});
    for (const s of [`${topicPrefix}.public.zones-key`, `${topicPrefix}.public.zones-value`]) {
      await fetch(`${stack.schemaRegistryUrl}/subjects/${s}`, { method: 'DELETE' }).catch(() => {});
      await fetch(`${stack.schemaRegistryUrl}/subjects/${s}?permanent=true`, { method: 'DELETE' }).catch(
        () => {},
      );
    }
    await admin.disconnect();
    await db.query('DELETE FROM zones WHERE id = $1', [zoneId]).catch(() => {});
    await db.end();
  });

  it('op r with source.snapshot set, before null', async () => {
    const r = await waitFor(
      'snapshot read of the zone',
      () => got.find((g) => Number(g.key.id) === zoneId && g.value?.op === 'r'),
      120_000,
    );
    const v = r.value as Rec;
    expect(v.before).toBeNull();
    expect((v.after as Rec).code).toBe(`S${zoneId}`);
    expect(['true', 'first', 'first_in_data_collection', 'last', 'last_in_data_collection']).toContain(
      (v.source as Rec).snapshot,
    );
  });
});
