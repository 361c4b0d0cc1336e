import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { businessDayOf, DEFAULT_BUSINESS_TIMEZONE } from '../../src/batch/business-day.js';
import { diffCohorts } from '../../src/batch/cohorts/truth.js';
import { createClient } from '../../src/db/pg.js';
import { generate, runGenerator } from './support/generator.js';
import { Scenario } from './support/scenario.js';

/**
 * The daily batch on the real stack: nine days of seeded history captured by Debezium, then live
 * streaming while corrections land on closed days (a completed trip moved a day earlier, one
 * completed trip cancelled after the fact, a late trip inserted into yesterday). The worker's own
 * scheduler (checking every 2 s) must re-run the batch for the touched days until every cohort,
 * churn and productivity row equals the same SQL over the source; `cohorts run` is idempotent.
 */
const BIN = join(import.meta.dirname, '../../bin/ride-cdc.js');
const cfg = { timezone: DEFAULT_BUSINESS_TIMEZONE, churnDays: 2 };

describe('cohort batch equals SQL over the source', () => {
  const s = new Scenario();
  let reporting: pg.Client;
  const now = new Date();

  beforeAll(async () => {
    await s.start({
      beforeConnector: () =>
        generate(s.generatorEnv(), [
          '--mode',
          'seed',
          '--volume',
          'small',
          '--days',
          '9',
          '--bookings',
          '2700',
          '--base-time',
          now.toISOString(),
          '--progress-interval',
          '0',
        ]).then(() => undefined),
    });
    reporting = createClient(s.reporting);
    await reporting.connect();
    await s.startWorker({ COHORTS_INTERVAL_MS: '2000', CHURN_DAYS: String(cfg.churnDays) });
  }, 600_000);

  afterAll(async () => {
    await reporting?.end();
    await s.stop();
  });

  it('after streaming and corrections on closed days, every row equals the truth', async () => {
    const stream = runGenerator(s.generatorEnv(), [
      '--mode',
      'stream',
      '--volume',
      'small',
      '--seconds',
      '30',
      '--stream-sleep-min',
      '10',
      '--stream-sleep-max',
      '60',
    ]);
    const initial = await s.converge(
      async () => (await diffCohorts(s.sourceDb, reporting, cfg)).diffs,
      240_000,
    );
    expect(initial.slice(0, 5)).toEqual([]);
    const correctedAt = new Date();

    // Corrections on closed business days, as an operator or a late-arriving app event would make them.
    const db = s.sourceDb;
    await db.query(
      `UPDATE bookings SET completed_at = completed_at - interval '1 day', started_at = started_at - interval '1 day',
              arrived_at = arrived_at - interval '1 day', accepted_at = accepted_at - interval '1 day',
              requested_at = requested_at - interval '1 day', updated_at = now()
        WHERE id IN (SELECT id FROM bookings WHERE status = 'completed' AND completed_at < now() - interval '3 days' ORDER BY id LIMIT 5)`,
    );
    await db.query(
      `UPDATE bookings SET status = 'cancelled', cancelled_at = completed_at, cancelled_by = 'system',
              cancel_reason = 'fraud_reversal', completed_at = NULL, updated_at = now()
        WHERE id = (SELECT id FROM bookings WHERE status = 'completed' AND completed_at < now() - interval '2 days' ORDER BY id DESC LIMIT 1)`,
    );
    await db.query(
      `INSERT INTO bookings (passenger_id, driver_id, status, vehicle_type, pickup_lat, pickup_lon, pickup_zone_id,
              dropoff_lat, dropoff_lon, dropoff_zone_id, requested_at, accepted_at, arrived_at, started_at, completed_at,
              estimated_fare, final_fare, distance_km, surge_multiplier, payment_method)
       SELECT (SELECT max(id) FROM passengers), (SELECT min(id) FROM drivers), 'completed', 'bike', 10.7756, 106.7019, 1,
              10.7828, 106.6866, 2, t, t + interval '1 minute', t + interval '4 minutes', t + interval '5 minutes',
              t + interval '20 minutes', 30000, 31000, 4.2, 1.0, 'cash'
         FROM (SELECT date_trunc('day', now() AT TIME ZONE 'Asia/Ho_Chi_Minh') AT TIME ZONE 'Asia/Ho_Chi_Minh' - interval '20 hours' AS t) x`,
    );
    const streamed = await stream.done;
    expect(streamed.code, streamed.output).toBe(0);

    const result = await s.converge(
      async () => (await diffCohorts(s.sourceDb, reporting, cfg)).diffs,
      240_000,
    );
    const summary = await diffCohorts(s.sourceDb, reporting, cfg);
    const counts = (
      await reporting.query<{ view: string; n: number }>(
        `SELECT 'cohort_retention' AS view, count(*)::int AS n FROM mart.cohort_retention
         UNION ALL SELECT 'churn_daily', count(*)::int FROM mart.churn_daily
         UNION ALL SELECT 'driver_productivity_daily', count(*)::int FROM mart.driver_productivity_daily`,
      )
    ).rows;
    const after = (
      await reporting.query<{ last_since: string; last_run_at: Date }>(
        "SELECT last_since::text, last_run_at FROM mart.batch_run WHERE job = 'cohorts'",
      )
    ).rows[0]!;
    process.stderr.write(
      `[cohorts e2e] ${summary.rows} truth rows; ${counts.map((c) => `${c.view} ${c.n}`).join(', ')}; last run at ${after.last_run_at.toISOString()} since ${after.last_since}\n`,
    );
    expect(result.slice(0, 5)).toEqual([]);
    for (const c of counts) expect(c.n, c.view).toBeGreaterThan(0);
    // t+1, t+3 and t+7 retention all present for the early cohorts of a nine-day history.
    const offsets = await reporting.query<{ day_offset: number }>(
      'SELECT DISTINCT day_offset FROM mart.cohort_retention ORDER BY 1',
    );
    expect(offsets.rows.map((r) => r.day_offset)).toEqual([1, 3, 7]);
    // The corrections touched closed days (the earliest ≥ 3 days back): the scheduler re-ran from there.
    expect(after.last_run_at.getTime()).toBeGreaterThan(correctedAt.getTime());
    expect(after.last_since <= businessDayOf(new Date(now.getTime() - 3 * 86_400_000), cfg.timezone)).toBe(
      true,
    );

    // The CLI is idempotent: a full re-run changes nothing.
    const first = await reporting.query('SELECT min(cohort_day)::text AS d FROM mart.cohort_retention');
    const run = spawnSync(process.execPath, [BIN, 'cohorts', 'run', '--since', first.rows[0].d, '--json'], {
      env: { ...process.env, ...s.workerEnv(), CHURN_DAYS: String(cfg.churnDays) },
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    expect((await diffCohorts(s.sourceDb, reporting, cfg)).diffs.slice(0, 5)).toEqual([]);
  });
});
