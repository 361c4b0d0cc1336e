import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillMetric } from '../../src/batch/backfill/backfill.js';
import { createClient, createPool } from '../../src/db/pg.js';
import {
  ALL,
  and,
  column,
  dim,
  eq,
  flow,
  notNull,
  ONE,
  type MetricDef,
} from '../../src/project/metrics/catalog.js';
import { diffMetricRows, truthSql, type MetricRow } from '../../src/project/metrics/truth-sql.js';
import { diffBookingEvents, diffDriverLatest } from '../../src/verify/es-truth.js';
import { diffBookingFacts, diffMart } from '../../src/verify/mart-truth.js';
import { runGenerator } from './support/generator.js';
import { Scenario, type WorkerProcess } from './support/scenario.js';

/**
 * How the mart evolves on the real stack, in one isolated world:
 *  1. every generator scenario streams through the whole pipeline and the mart and Elasticsearch
 *     still equal SQL over the source after the drain;
 *  2. a KPI added to a populated mart is backfilled from the stored row states (no Kafka replay),
 *     equals its truth, and a second backfill changes nothing; `ride-cdc mart backfill` restores a
 *     catalog KPI whose rows were lost;
 *  3. each case of docs/schema-changes.md: a new column, a new enum value and a new table are
 *     absorbed by the worker alone; a widened type too, also when its scale grows (the mart keeps
 *     unbounded numerics, mart-sql/reporting/012_unbounded_numerics.sql).
 */
const REPO = join(import.meta.dirname, '../..');
const BIN = join(REPO, 'bin/ride-cdc.js');

describe('mart evolution: scenarios, backfill, source schema changes', () => {
  const s = new Scenario();
  let reporting: pg.Client;
  let worker: WorkerProcess;
  const exact = async () => {
    const mart = (await diffMart(s.sourceDb, reporting)).diffs.map((d) => `${d.key}: ${JSON.stringify(d)}`);
    return [...mart, ...(await diffBookingFacts(s.sourceDb, reporting))];
  };
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...s.workerEnv() },
      encoding: 'utf8',
    });

  beforeAll(async () => {
    await s.start();
    reporting = createClient(s.reporting);
    await reporting.connect();
    worker = await s.startWorker();
  }, 300_000);

  afterAll(async () => {
    await reporting?.end();
    await s.stop();
  });

  it('every scenario drains to an exact mart and exact Elasticsearch views', async () => {
    for (const scenario of ['rush-hour', 'surge', 'rain', 'network-latency', 'surge,rain,network-latency']) {
      const run = await runGenerator(s.generatorEnv(), [
        '--mode',
        'stream',
        '--volume',
        'tiny',
        '--seconds',
        '12',
        '--scenario',
        scenario,
        '--city-hour',
        '8',
        '--stream-sleep-min',
        '10',
        '--stream-sleep-max',
        '60',
        '--progress-interval',
        '0',
      ]).done;
      expect(run.code, run.output).toBe(0);
    }
    const diffs = await s.converge(exact, 240_000);
    expect(diffs.slice(0, 5)).toEqual([]);
    expect((await diffDriverLatest(s.sourceDb, s.es, s.indexPrefix)).slice(0, 5)).toEqual([]);
    expect((await diffBookingEvents(s.sourceDb, s.es, s.indexPrefix)).slice(0, 5)).toEqual([]);
  });

  // A KPI the catalog does not have: cash GMV per vehicle, by completed_at.
  const cashGmv: MetricDef = flow(
    {
      name: 'cash_gmv_backfill_test',
      group: 'Operation',
      unit: 'VND',
      kind: 'sum',
      description: 'Sum of final_fare of completed cash bookings, by completed_at (test KPI).',
    },
    {
      source: 'bookings',
      time: 'completed_at',
      where: and(notNull('completed_at', 'final_fare'), eq('payment_method', 'cash')),
      numerator: column('final_fare'),
      denominator: ONE,
      dimensions: [ALL, dim('vehicle', 'vehicle_type')],
    },
  );

  it('backfills a new KPI from the stored states, idempotently, equal to its truth', async () => {
    const pool = createPool(s.reporting, { max: 2 });
    try {
      const first = await backfillMetric(pool, cashGmv);
      const truth = (await s.sourceDb.query<MetricRow>(truthSql(cashGmv))).rows;
      const martRows = async () =>
        (
          await reporting.query<MetricRow>(
            `SELECT metric_name, bucket_granularity, bucket_start, dimension, numerator, denominator, metric_value
               FROM mart.fact_metric_bucket WHERE metric_name = $1`,
            [cashGmv.name],
          )
        ).rows;
      const afterFirst = await martRows();
      expect(diffMetricRows(truth, afterFirst).slice(0, 5)).toEqual([]);
      expect(truth.length).toBeGreaterThan(5);
      // A row the truth does not have: the backfill deletes it and leaves its key for the KPI
      // mirror (kpi_mirror_tombstone); the keys it writes again leave none.
      await reporting.query(
        `INSERT INTO mart.fact_metric_bucket (bucket_granularity, bucket_start, metric_name, dimension, value_rule, numerator, denominator)
         VALUES ('HOUR', '2001-01-01T00:00:00Z', $1, 'all', 'numerator', 1, 1)`,
        [cashGmv.name],
      );
      const second = await backfillMetric(pool, cashGmv);
      expect(second.rows).toBe(first.rows);
      expect(second.deleted).toBe(first.rows + 1);
      expect(diffMetricRows(truth, await martRows())).toEqual([]);
      const tombstones = await reporting.query<{ key: string }>(
        `SELECT concat_ws('|', bucket_granularity, to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24'), dimension) AS key
           FROM mart.kpi_mirror_tombstone WHERE metric_name = $1`,
        [cashGmv.name],
      );
      expect(tombstones.rows.map((r) => r.key)).toEqual(['HOUR|2001-01-01T00|all']);
      await reporting.query('DELETE FROM mart.kpi_mirror_tombstone WHERE metric_name = $1', [cashGmv.name]);
      process.stderr.write(
        `[backfill e2e] ${cashGmv.name}: ${first.rows} rows in ${first.ms.toFixed(0)} ms; again ${second.rows} rows\n`,
      );
      // The test KPI is not in the worker's catalog: nobody maintains it from here on.
      await reporting.query('DELETE FROM mart.fact_metric_bucket WHERE metric_name = $1', [cashGmv.name]);
      await reporting.query('DELETE FROM mart.metric_definition WHERE metric_name = $1', [cashGmv.name]);

      // A catalog KPI with a distinct side whose rows (and members) were lost: the CLI restores it.
      await reporting.query(
        "DELETE FROM mart.fact_metric_bucket WHERE metric_name IN ('active_drivers', 'gmv')",
      );
      await reporting.query("DELETE FROM mart.metric_member WHERE metric_name = 'active_drivers'");
      expect((await diffMart(s.sourceDb, reporting)).diffs.length).toBeGreaterThan(0);
      const r = cli(['mart', 'backfill', '--metric', 'active_drivers', 'gmv']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/backfill active_drivers: 0 old rows replaced by \d+ rows and \d+ members/);
      expect((await exact()).slice(0, 5)).toEqual([]);
      expect(cli(['mart', 'backfill', '--metric', 'no_such_kpi']).status).toBe(2);
    } finally {
      await pool.end();
    }
  });

  it('absorbs a new column, a new enum value, a new table and a widened type by itself', async () => {
    const db = s.sourceDb;
    await db.query('ALTER TABLE bookings ADD COLUMN loyalty_tier text');
    await db.query('ALTER TABLE drivers ADD COLUMN rating_avg numeric(3,2)');
    await db.query("ALTER TYPE vehicle_type ADD VALUE IF NOT EXISTS 'ev'");
    await db.query(
      'CREATE TABLE promotions (id bigserial PRIMARY KEY, code text NOT NULL, starts_at timestamptz NOT NULL)',
    );
    await db.query("INSERT INTO promotions (code, starts_at) VALUES ('RAINYDAY', now())");
    await db.query('ALTER TABLE bookings ALTER COLUMN distance_km TYPE numeric(10,3)');
    await db.query(
      `UPDATE bookings SET loyalty_tier = 'gold', updated_at = now() WHERE id IN (SELECT id FROM bookings ORDER BY id LIMIT 20)`,
    );
    await db.query(
      'UPDATE drivers SET rating_avg = 4.87, updated_at = now() WHERE id IN (SELECT id FROM drivers LIMIT 5)',
    );
    // A completed trip in the new vehicle type, with its payment.
    await db.query(
      `WITH b AS (
         INSERT INTO bookings (passenger_id, driver_id, status, vehicle_type, pickup_lat, pickup_lon, pickup_zone_id,
                dropoff_lat, dropoff_lon, dropoff_zone_id, requested_at, accepted_at, arrived_at, started_at, completed_at,
                estimated_fare, final_fare, distance_km, surge_multiplier, payment_method, loyalty_tier)
         VALUES ((SELECT min(id) FROM passengers), (SELECT min(id) FROM drivers), 'completed', 'ev', 10.7756, 106.7019, 1,
                10.7828, 106.6866, 2, now() - interval '20 minutes', now() - interval '19 minutes', now() - interval '15 minutes',
                now() - interval '14 minutes', now(), 40000, 41000, 5.123, 1.2, 'card', 'silver')
         RETURNING id)
       INSERT INTO payments (booking_id, amount, platform_fee, driver_earnings, method, paid_at)
       SELECT id, 41000, 9020, 31980, 'card', now() FROM b`,
    );
    const run = await runGenerator(s.generatorEnv(), [
      '--mode',
      'stream',
      '--volume',
      'tiny',
      '--seconds',
      '8',
      '--progress-interval',
      '0',
    ]).done;
    expect(run.code, run.output).toBe(0);
    expect((await s.converge(exact, 240_000)).slice(0, 5)).toEqual([]);
    const ev = await reporting.query(
      "SELECT 1 FROM mart.fact_metric_bucket WHERE metric_name = 'bookings_completed' AND dimension = 'vehicle:ev'",
    );
    expect(ev.rowCount).toBeGreaterThan(0);
    expect((await worker.get('/readyz')).status).toBe(200);
    expect(await worker.metric('ride_cdc_dead_letter_total')).toBe(0);
  });

  it('a type whose precision and scale grow is absorbed too: the mart keeps unbounded numerics', async () => {
    const db = s.sourceDb;
    await db.query('ALTER TABLE payments ALTER COLUMN amount TYPE numeric(16,3)');
    await db.query('ALTER TABLE bookings ALTER COLUMN final_fare TYPE numeric(16,2)');
    // A thousandth the old scale could not hold, and a fare the old precision could not hold.
    await db.query(
      `UPDATE payments SET amount = amount + 0.005 WHERE id IN (SELECT id FROM payments WHERE status = 'paid' ORDER BY id LIMIT 3)`,
    );
    await db.query(
      `UPDATE bookings SET final_fare = 123456789012.34, updated_at = now()
        WHERE id = (SELECT booking_id FROM payments WHERE status = 'paid' ORDER BY id DESC LIMIT 1)`,
    );
    expect((await s.converge(exact, 240_000)).slice(0, 5)).toEqual([]);
    const wide = await reporting.query(
      "SELECT 1 FROM mart.fact_booking WHERE final_fare = 123456789012.34 OR paid_amount::text LIKE '%.__5'",
    );
    expect(wide.rowCount).toBeGreaterThanOrEqual(2);
    expect((await worker.get('/readyz')).status).toBe(200);
    expect(await worker.metric('ride_cdc_dead_letter_total')).toBe(0);
  });
});
