import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/db/pg.js';
import { runVerify } from '../../src/verify/verify.js';
import { runCli } from './support/cli.js';
import { generate } from './support/generator.js';
import { Scenario, type WorkerProcess } from './support/scenario.js';

/**
 * `ride-cdc verify` on the real stack: a `small` history (3 days ending now) captured by Debezium
 * and drained by a worker verifies clean over its last day and over the whole history; a tampered
 * KPI row and a deleted Elasticsearch document are both reported, with a non-zero exit. The
 * data-quality snapshot (the worker's monitor and `ride-cdc quality snapshot`) counts every table
 * complete after the drain and names the deleted document as missing.
 */
const verifyCli = (env: Record<string, string>, args: string[]) => runCli(env, ['verify', ...args]);
const qualityCli = (env: Record<string, string>) => runCli(env, ['quality', 'snapshot']);

describe('ride-cdc verify', () => {
  const s = new Scenario();
  let reporting: pg.Client;
  let worker: WorkerProcess;
  const now = new Date();
  const dayAgo = new Date(now.getTime() - 86_400_000);

  beforeAll(async () => {
    await s.start({
      beforeConnector: async (db) => {
        await generate(s.generatorEnv(), [
          '--mode',
          'seed',
          '--volume',
          'small',
          '--base-time',
          now.toISOString(),
          '--progress-interval',
          '0',
        ]);
        // Positions recorded before capture starts never reach the time-series index (the
        // snapshot carries each driver's latest one): the history starts at the snapshot.
        await db.query('TRUNCATE driver_location_history');
        await db.query(
          'INSERT INTO driver_location_history (driver_id, lat, lon, recorded_at) SELECT driver_id, lat, lon, updated_at FROM driver_locations',
        );
      },
    });
    reporting = createClient(s.reporting);
    await reporting.connect();
    worker = await s.startWorker({ QUALITY_INTERVAL_MS: '3000', ...s.generatorEnv() });
    const drained = await runVerify(
      { source: s.sourceDb, reporting, es: s.es, indexPrefix: s.indexPrefix },
      { waitMs: 240_000 },
    );
    expect(drained.differences, JSON.stringify(drained.checks)).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await reporting?.end();
    await s.stop();
  });

  const env = () => ({ ...s.workerEnv(), ...s.generatorEnv() });

  it('passes over the last day and the whole history, and reports what it compared', async () => {
    const day = await verifyCli(env(), ['--since', dayAgo.toISOString(), '--until', now.toISOString()]);
    const all = await verifyCli(env(), []);
    process.stderr.write(
      `[verify e2e] last day of small: ${day.ms.toFixed(0)} ms wall (process start included)\n${day.out}\n` +
        `[verify e2e] whole history: ${all.ms.toFixed(0)} ms\n${all.out}\n`,
    );
    expect(day.code, day.out).toBe(0);
    expect(all.code, all.out).toBe(0);
    expect(day.out).toMatch(/OK: everything equals the source/);
    const kpiRows = Number(/mart KPI rows\s+compared\s+(\d+)/.exec(day.out)?.[1]);
    const allRows = Number(/mart KPI rows\s+compared\s+(\d+)/.exec(all.out)?.[1]);
    expect(kpiRows).toBeGreaterThan(1000);
    expect(allRows).toBeGreaterThan(kpiRows);
  });

  it('the data-quality snapshot counts every table complete after the drain', async () => {
    // The worker's monitor: one snapshot every 3 s, exported as gauges and kept in mart.data_quality.
    const tables = ['bookings', 'drivers', 'passengers', 'payments', 'ratings', 'zones'];
    const snap = await s.converge(async () => {
      const rows = await reporting.query<{
        table_name: string;
        store: string;
        expected: string;
        actual: string;
      }>(
        `SELECT table_name, store, expected::text, actual::text FROM mart.data_quality_latest ORDER BY table_name, store`,
      );
      const seen = new Set(rows.rows.map((r) => r.table_name));
      const bad = rows.rows.filter((r) => r.expected !== r.actual).map((r) => JSON.stringify(r));
      return [...tables.filter((t) => !seen.has(t)).map((t) => `no snapshot of ${t}`), ...bad];
    }, 60_000);
    expect(snap).toEqual([]);
    for (const table of tables)
      expect(await worker.metric('ride_cdc_data_quality_missing', { table, store: 'mart' })).toBe(0);
    expect(await worker.metric('ride_cdc_data_quality_missing', { table: 'bookings', store: 'es' })).toBe(0);
    expect(
      await worker.metric('ride_cdc_data_quality_rows', { table: 'bookings', store: 'mart' }),
    ).toBeGreaterThan(1000);
    const cli = await qualityCli(env());
    expect(cli.code, cli.out).toBe(0);
    expect(cli.out).toMatch(/^bookings\s+mart\s+(\d+)\s+\1\s+0\s/m);
  });

  it('exits non-zero and prints the first differences when the mart or Elasticsearch differs', async () => {
    const row = (
      await reporting.query<{ metric_name: string; bucket_start: Date; dimension: string }>(
        `SELECT metric_name, bucket_start, dimension FROM mart.fact_metric_bucket
          WHERE metric_name = 'bookings_requested' AND bucket_granularity = 'HOUR' AND bucket_start >= $1
          ORDER BY bucket_start LIMIT 1`,
        [dayAgo],
      )
    ).rows[0]!;
    await reporting.query(
      `UPDATE mart.fact_metric_bucket SET numerator = numerator + 1
        WHERE metric_name = $1 AND bucket_granularity = 'HOUR' AND bucket_start = $2 AND dimension = $3`,
      [row.metric_name, row.bucket_start, row.dimension],
    );
    const booking = (
      await s.sourceDb.query<{ id: string }>(
        'SELECT id::text FROM bookings WHERE requested_at >= $1 ORDER BY id LIMIT 1',
        [dayAgo],
      )
    ).rows[0]!;
    const docId = `booking:${booking.id}:requested`;
    const hit = await s.es.search({
      index: `${s.indexPrefix}booking_events-*`,
      query: { ids: { values: [docId] } },
    });
    await s.es.delete({ index: hit.hits.hits[0]!._index, id: docId, refresh: true });
    const r = await verifyCli(env(), ['--since', dayAgo.toISOString()]);
    process.stderr.write(`[verify e2e] tampered:\n${r.out}\n`);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`bookings_requested|HOUR|${row.bucket_start.toISOString()}|${row.dimension}`);
    expect(r.out).toContain(`booking event booking:${booking.id}:requested`);
    expect(r.out).toMatch(/FAILED: \d+ differences/);

    // Data quality sees the deleted document too: one booking step missing from Elasticsearch.
    const q = await qualityCli(env());
    expect(q.code, q.out).toBe(1);
    expect(q.out).toMatch(/^bookings\s+es\s+\d+\s+\d+\s+1\s/m);
    const missing = await s.converge(async () => {
      const n = await worker.metric('ride_cdc_data_quality_missing', { table: 'bookings', store: 'es' });
      return n === 1 ? [] : [`ride_cdc_data_quality_missing{bookings,es} = ${n}`];
    }, 30_000);
    expect(missing).toEqual([]);
  });
});
