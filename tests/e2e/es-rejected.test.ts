import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createClient } from '../../src/db/pg.js';
import { DLQ_HEADER } from '../../src/source/dead-letter.js';
import { Scenario, type WorkerProcess } from '../../src/stack/scenario.js';
import { diffMart } from '../../src/verify/mart-truth.js';

/**
 * A valid source row the Elasticsearch mappings cannot take (a pickup latitude of 95°, refused by
 * the geo_point mapping): its document goes to the dead-letter topic with the reason, and the mart
 * still counts the row — the sinks are independent, so the mart equals SQL over the source.
 */
describe('a row Elasticsearch rejects', () => {
  const s = new Scenario();
  let worker: WorkerProcess;
  let reporting: pg.Client;

  beforeAll(async () => {
    await s.start();
    worker = await s.startWorker();
    reporting = createClient(s.reporting);
    await reporting.connect();
  });
  afterAll(async () => {
    await reporting?.end();
    await s.stop();
  });

  it('is dead-lettered with its reason and still counted in the mart', async () => {
    await s.sourceDb.query(
      `INSERT INTO passengers (id, full_name, phone, home_zone_id, created_at) VALUES (1, 'Tran Van An', '+84900000001', 1, now())`,
    );
    await s.sourceDb.query(
      `INSERT INTO bookings (id, passenger_id, status, vehicle_type, pickup_lat, pickup_lon, pickup_zone_id, dropoff_lat, dropoff_lon,
                             dropoff_zone_id, requested_at, estimated_fare, distance_km, payment_method)
       VALUES (1, 1, 'requested', 'car', 95.0, 106.70, 1, 10.77, 106.70, 1, now(), 50000.00, 5.000, 'cash'),
              (2, 1, 'requested', 'car', 10.78, 106.69, 1, 10.77, 106.70, 1, now(), 60000.00, 6.000, 'cash')`,
    );

    const consumer = s.kafka.consumer({ groupId: `${s.id}-dlq-reader` });
    const letters: Record<string, string>[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: s.dlqTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        letters.push(
          Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        );
      },
    });
    const deadline = Date.now() + 90_000;
    while (letters.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    await consumer.disconnect();
    expect(letters).toHaveLength(1);
    expect(letters[0]![DLQ_HEADER.reason]).toBe('elasticsearch-rejected');
    expect(letters[0]![DLQ_HEADER.topic]).toBe(`${s.topicPrefix}.public.bookings`);
    expect(letters[0]![DLQ_HEADER.message]).toMatch(/pickup_location|latitude|geo_point/i);

    // Both bookings in the mart (state and KPIs), exactly as SQL over the source says.
    const diffs = await s.converge(async () => {
      const n = (
        await reporting.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM mart.fact_booking WHERE booking_present',
        )
      ).rows[0]!.n;
      return n === 2
        ? (await diffMart(s.sourceDb, reporting)).diffs.map((d) => d.key)
        : [`${n} bookings in the mart`];
    }, 90_000);
    expect(diffs).toEqual([]);
    expect(await worker.metric('ride_cdc_dead_letter_total', { reason: 'elasticsearch-rejected' })).toBe(1);
    expect((await worker.get('/readyz')).status).toBe(200);
  });
});
