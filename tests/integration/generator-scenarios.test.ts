/**
 * Each generator scenario moves the KPIs it must, measured with the catalog's truth SQL over the
 * rows the run wrote to a real PostgreSQL (the same SQL the mart is proven equal to by the e2e
 * suites). Every run is a stream run of the same number of ticks (the same city time, the same
 * random draws on any machine: a run bounded by wall time plays more city hours on a faster
 * machine and leaves the rush hour) on its own fresh database; a baseline run without a scenario
 * is the reference. Rates are over the whole run (HOUR buckets, dimension 'all'); counts are per
 * tick.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClient, quoteIdent, sourcePgSettings, type PgSettings } from '../../src/db/pg.js';
import { runGenerator, type GeneratorInput, type GeneratorResult } from '../../src/generator/index.js';
import { metricDef } from '../../src/project/metrics/catalog.js';
import { truthSql, type MetricRow } from '../../src/project/metrics/truth-sql.js';

function serverSettings(): PgSettings {
  if (process.env.GENERATOR_PGHOST || process.env.GENERATOR_PGPORT) return sourcePgSettings();
  try {
    return (inject('stack') as { source: PgSettings } | undefined)?.source ?? sourcePgSettings();
  } catch {
    return sourcePgSettings();
  }
}

const server = serverSettings();
const created: string[] = [];
// 240 ticks of 10 city seconds: 40 city minutes, inside the peak hours of the rush-hour runs.
const TICKS = Number(process.env.SCENARIO_IT_TICKS ?? 240);

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = createClient({ ...server, database: 'postgres' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

interface Run {
  result: GeneratorResult;
  db: pg.Client;
  /** Whole-run value of a flow KPI: Σ numerator / Σ denominator (ratio) or Σ numerator. */
  kpi(metric: string, dimension?: string): Promise<number>;
  /** Current value of a gauge KPI. */
  gauge(metric: string): Promise<number>;
  scalar(sql: string): Promise<number>;
}

const runs: Run[] = [];

async function run(tag: string, extra: GeneratorInput): Promise<Run> {
  const name = `gen_sc_${tag}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  created.push(name);
  const settings = { ...server, database: name };
  const result = await runGenerator(
    {
      mode: 'stream',
      volume: 'small',
      ticks: TICKS,
      seed: tag,
      progressIntervalMs: 0,
      stream: { sleepMinMs: 0, sleepMaxMs: 5, newBookingProb: 0.1 },
      pg: settings,
      ...extra,
    },
    undefined,
    () => {},
  );
  const db = createClient(settings);
  await db.connect();
  const rows = async (metric: string, dimension: string) =>
    (await db.query<MetricRow>(truthSql(metricDef(metric)))).rows.filter(
      (r) =>
        r.dimension === dimension && (r.bucket_granularity === 'HOUR' || r.bucket_granularity === 'CURRENT'),
    );
  const r: Run = {
    result,
    db,
    async kpi(metric, dimension = 'all') {
      const rs = await rows(metric, dimension);
      const num = rs.reduce((a, x) => a + Number(x.numerator), 0);
      const den = rs.reduce((a, x) => a + Number(x.denominator), 0);
      return metricDef(metric).valueRule === 'ratio' ? num / den : num;
    },
    async gauge(metric) {
      return Number((await rows(metric, 'all'))[0]?.metric_value ?? 0);
    },
    async scalar(sql) {
      return Number((await db.query<{ v: string }>(sql)).rows[0]!.v);
    },
  };
  runs.push(r);
  return r;
}

const perTick = async (r: Run, metric: string, dimension = 'all') =>
  (await r.kpi(metric, dimension)) / r.result.ticks;

/** Location reports older than the same driver's previous report (by insertion order). */
const OUT_OF_ORDER_REPORTS = `SELECT count(*)::text AS v FROM (
  SELECT recorded_at < lag(recorded_at) OVER (PARTITION BY driver_id ORDER BY id) AS back FROM driver_location_history
) x WHERE back`;
/** Bookings requested more than 2 s before a booking inserted earlier (late app events). */
const LATE_BOOKINGS = `SELECT count(*)::text AS v FROM (
  SELECT requested_at < max(requested_at) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) - interval '2 seconds' AS late FROM bookings
) x WHERE late`;

describe('generator scenarios move their KPIs', () => {
  let base: Run;
  beforeAll(async () => {
    base = await run('baseline', {});
  }, 120_000);

  afterAll(async () => {
    for (const r of runs) await r.db.end().catch(() => undefined);
    await admin(async (c) => {
      for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    });
  });

  it('rush-hour: requests follow the local time of day (morning peak ≫ night)', async () => {
    const peak = await run('rush_peak', { scenario: 'rush-hour', cityHour: 7.5 });
    const night = await run('rush_night', { scenario: 'rush-hour', cityHour: 1 });
    const [b, p, n] = (await Promise.all(
      [base, peak, night].map((r) => perTick(r, 'bookings_requested')),
    )) as [number, number, number];
    process.stderr.write(`[scenario rush-hour] bookings/tick baseline ${b} peak ${p} night ${n}\n`);
    expect(p).toBeGreaterThan(1.3 * b);
    expect(n).toBeLessThan(0.5 * b);
    // More demand against the same fleet: more of it is surged.
    expect(await peak.kpi('surge_share')).toBeGreaterThan(await night.kpi('surge_share'));
  });

  it('surge: demand ×N in the chosen zones, surge multipliers rise', async () => {
    const s = await run('surge', { scenario: 'surge', surgeZones: [1], surgeFactor: 5 });
    const zone = await Promise.all([base, s].map((r) => perTick(r, 'bookings_requested', 'zone:1')));
    const share = await Promise.all([base, s].map((r) => r.kpi('surge_share')));
    const mult = await Promise.all([base, s].map((r) => r.kpi('avg_surge_multiplier', 'zone:1')));
    process.stderr.write(
      `[scenario surge] zone 1 bookings/tick ${zone.join(' → ')}; surge_share ${share.join(' → ')}; zone 1 avg surge ${mult.join(' → ')}\n`,
    );
    expect(zone[1]!).toBeGreaterThan(2.5 * zone[0]!);
    expect(share[1]!).toBeGreaterThan(share[0]! + 0.05);
    expect(mult[1]!).toBeGreaterThan(mult[0]! + 0.1);
  });

  it('rain: fewer drivers online, match rate falls, cancellations rise', async () => {
    const r = await run('rain', { scenario: 'rain' });
    const online = await Promise.all([base, r].map((x) => x.gauge('drivers_online')));
    const match = await Promise.all([base, r].map((x) => x.kpi('match_rate')));
    const cancel = await Promise.all([base, r].map((x) => x.kpi('cancellation_rate')));
    process.stderr.write(
      `[scenario rain] drivers_online ${online.join(' → ')}; match_rate ${match.join(' → ')}; cancellation_rate ${cancel.join(' → ')}\n`,
    );
    expect(online[1]!).toBeLessThan(0.75 * online[0]!);
    expect(match[1]!).toBeLessThan(match[0]! - 0.05);
    expect(cancel[1]!).toBeGreaterThan(cancel[0]! + 0.05);
  });

  it('network-latency: the source holds late and out-of-order business timestamps', async () => {
    const r = await run('latency', { scenario: 'network-latency' });
    const reports = await Promise.all([base, r].map((x) => x.scalar(OUT_OF_ORDER_REPORTS)));
    const late = await Promise.all([base, r].map((x) => x.scalar(LATE_BOOKINGS)));
    const accept = await Promise.all([base, r].map((x) => x.kpi('avg_time_to_accept_s')));
    process.stderr.write(
      `[scenario network-latency] out-of-order reports ${reports.join(' → ')}; late bookings ${late.join(' → ')}; avg_time_to_accept_s ${accept.join(' → ')}\n`,
    );
    expect(reports[0]).toBe(0);
    expect(reports[1]!).toBeGreaterThan(10);
    expect(late[1]!).toBeGreaterThan(late[0]! + 5);
    // A late request stamp (the phone's time) makes the wait to acceptance look longer.
    expect(accept[1]!).toBeGreaterThan(accept[0]!);
  });
});
