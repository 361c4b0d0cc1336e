import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/db/pg.js';
import { DLQ_HEADER } from '../../src/source/dead-letter.js';
import { Scenario, type WorkerProcess } from '../../src/stack/scenario.js';

/**
 * Poison messages on a real topic: garbage bytes and a well-framed message whose schema id the
 * registry has never seen. Both must reach the dead-letter topic with their original bytes and
 * the error in headers, and the worker must keep applying real changes that come after them.
 */
describe('poison messages', () => {
  const s = new Scenario();
  let worker: WorkerProcess;

  beforeAll(async () => {
    await s.start({
      beforeConnector: async (db) => {
        await db.query(
          `INSERT INTO drivers (id, full_name, phone, vehicle_type, plate_number, status, home_zone_id) VALUES (1, 'Poison Test', '+8490', 'car', '51A-1', 'available', 1)`,
        );
        await db.query(
          `INSERT INTO driver_locations (driver_id, lat, lon, zone_id, updated_at) VALUES (1, 10.77, 106.70, 1, now())`,
        );
      },
    });
    worker = await s.startWorker({ SCHEMA_UNKNOWN_RETRIES: '2', SCHEMA_UNKNOWN_WAIT_MS: '5000' });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('dead-letters garbage and unknown schema ids with their bytes, and keeps going', async () => {
    const topic = `${s.topicPrefix}.public.drivers`;
    const garbage = Buffer.from('definitely not avro');
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from('payload')]);
    const producer = s.kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: 'k-garbage', value: garbage, partition: 0, headers: { origin: 'test' } },
        // No key: a key would be decoded (and fail) first; here the value's schema id is the poison.
        { key: null, value: unknownId, partition: 0, headers: { origin: 'unknown-id' } },
      ],
    });
    await producer.disconnect();

    // A real change after the poison on the same topic must still arrive.
    await s.sourceDb.query(`UPDATE drivers SET status = 'busy', updated_at = now() WHERE id = 1`);

    const consumer = s.kafka.consumer({ groupId: `${s.id}-dlq-reader` });
    const letters: { key: string; value: Buffer | null; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: s.dlqTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        letters.push({ key: message.key === null ? '' : String(message.key), value: message.value, headers });
      },
    });
    const deadline = Date.now() + 90_000;
    while (letters.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    await consumer.disconnect();

    expect(letters.map((l) => l.headers.origin).sort()).toEqual(['test', 'unknown-id']);
    const g = letters.find((l) => l.key === 'k-garbage')!;
    expect(g.value).toEqual(garbage);
    expect(g.headers.origin).toBe('test');
    expect(g.headers[DLQ_HEADER.reason]).toBe('bad-wire-format');
    expect(g.headers[DLQ_HEADER.topic]).toBe(topic);
    expect(g.headers[DLQ_HEADER.partition]).toBe('0');
    const u = letters.find((l) => l.headers.origin === 'unknown-id')!;
    expect(u.value).toEqual(unknownId);
    expect(u.headers[DLQ_HEADER.reason]).toBe('unknown-schema');
    expect(u.headers[DLQ_HEADER.message]).toMatch(/schema id 2147483632/);

    const diffs = await s.converge(async () => {
      await s.es.indices.refresh({ index: `${s.indexPrefix}driver_locations` });
      const doc = await s.es
        .get<{ status: string }>({ index: `${s.indexPrefix}driver_locations`, id: '1' })
        .catch(() => null);
      return doc?._source?.status === 'busy' ? [] : [doc?._source?.status ?? 'missing'];
    }, 60_000);
    expect(diffs).toEqual([]);
    expect(await worker.metric('ride_cdc_dead_letter_total')).toBe(2);
    expect(await worker.metric('ride_cdc_decode_errors_total', { reason: 'unknown-schema' })).toBe(1);
    expect(worker.child.exitCode).toBeNull();
    expect((await worker.get('/readyz')).status).toBe(200);
  });

  it('drains on SIGTERM: exits 0 within the shutdown deadline with its position committed', async () => {
    await s.sourceDb.query(`UPDATE drivers SET status = 'available', updated_at = now() WHERE id = 1`);
    await s.converge(async () => {
      const doc = await s.es
        .get<{ status: string }>({ index: `${s.indexPrefix}driver_locations`, id: '1' })
        .catch(() => null);
      return doc?._source?.status === 'available' ? [] : ['not yet'];
    }, 60_000);
    const started = Date.now();
    const code = await worker.kill('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    // The consumer group in Kafka holds the same positions as reporting_db (lag tooling sees them).
    const db = createClient(s.reporting);
    await db.connect();
    const stored = (
      await db
        .query<{ topic: string; partition: number; next_offset: string }>(
          'SELECT topic, partition, next_offset::text FROM mart.consumer_offsets WHERE group_id = $1',
          [s.groupId],
        )
        .finally(() => db.end())
    ).rows;
    expect(stored.length).toBeGreaterThan(0);
    const admin = s.kafka.admin();
    await admin.connect();
    try {
      for (const row of stored) {
        const [t] = await admin.fetchOffsets({ groupId: s.groupId, topics: [row.topic] });
        expect(t!.partitions.find((p) => p.partition === row.partition)?.offset).toBe(row.next_offset);
      }
    } finally {
      await admin.disconnect();
    }
    // A new worker of the same group finds everything committed: nothing is replayed into the mart.
    const next = await s.startWorker();
    await new Promise((r) => setTimeout(r, 5000));
    expect(await next.metric('ride_cdc_events_in_total')).toBe(0);
  });
});
