/**
 * On-demand reconciliation (`ride-cdc verify`): every KPI row of the mart in a time range against
 * its truth SQL over ride_hailing_db, mart.fact_booking against the bookings, and Elasticsearch's
 * driver and booking views against the source. Read-only. Operators run it after an incident; the
 * result says per view how many rows were compared and lists the first differences.
 */
import type { Client as EsClient } from '@elastic/elasticsearch';
import type pg from 'pg';
import { diffBookingEvents, diffDriverLatest, diffLocationTimeseries } from './es-truth.js';
import { addDays, businessDayOf, loadBatchConfig, type BatchConfig } from '../batch/business-day.js';
import { diffCohorts } from '../batch/cohorts/truth.js';
import { diffBookingFacts, diffMart, type TimeRange } from './mart-truth.js';

export interface VerifyTargets {
  source: Pick<pg.ClientBase, 'query'>;
  reporting: Pick<pg.ClientBase, 'query'>;
  es: EsClient;
  indexPrefix: string;
  /** Business day of the daily batch views (cohorts); default BUSINESS_TIMEZONE etc. */
  batch?: Pick<BatchConfig, 'timezone' | 'churnDays'>;
}

export interface CheckResult {
  name: string;
  /** Rows or documents compared (the source side). */
  compared: number;
  differences: number;
  /** The first differences, one line each. */
  first: string[];
  ms: number;
}

export interface VerifyResult {
  range: TimeRange | null;
  checks: CheckResult[];
  differences: number;
  elapsedMs: number;
  /** Comparison rounds run (more than one with --wait while something still differed). */
  rounds: number;
}

type Check = (t: VerifyTargets, range: TimeRange | undefined, keep: number) => Promise<CheckResult>;

const line = (x: unknown): string => JSON.stringify(x);

async function timed(
  name: string,
  fn: () => Promise<{ compared: number; diffs: string[] }>,
  keep: number,
): Promise<CheckResult> {
  const t0 = performance.now();
  const { compared, diffs } = await fn();
  return {
    name,
    compared,
    differences: diffs.length,
    first: diffs.slice(0, keep),
    ms: performance.now() - t0,
  };
}

const count = async (q: VerifyTargets['source'], sql: string, params: unknown[] = []): Promise<number> =>
  Number((await q.query<{ n: string }>(sql, params)).rows[0]!.n);

const inRange = (col: string, range: TimeRange | undefined) =>
  range ? `WHERE ${col} >= $1 AND ${col} < $2` : '';
const params = (range: TimeRange | undefined) => (range ? [range.since, range.until] : []);

export const CHECKS: readonly Check[] = [
  (t, range, keep) =>
    timed(
      'mart KPI rows',
      async () => {
        const r = await diffMart(t.source, t.reporting, range);
        return {
          compared: r.truthRows,
          diffs: r.diffs.map((d) => `${d.key}: truth ${line(d.truth)} mart ${line(d.mart)}`),
        };
      },
      keep,
    ),
  (t, range, keep) =>
    timed(
      'mart fact_booking',
      async () => ({
        compared: await count(
          t.source,
          `SELECT count(*)::text AS n FROM bookings ${inRange('requested_at', range)}`,
          params(range),
        ),
        diffs: await diffBookingFacts(t.source, t.reporting, range),
      }),
      keep,
    ),
  (t, range, keep) =>
    timed(
      'mart cohort views (business day)',
      async () => {
        const cfg = t.batch ?? loadBatchConfig();
        const days = range && {
          from: businessDayOf(range.since, cfg.timezone),
          until: addDays(businessDayOf(new Date(range.until.getTime() - 1), cfg.timezone), 1),
        };
        const r = await diffCohorts(t.source, t.reporting, cfg, days);
        return {
          compared: r.rows,
          diffs: r.diffs.map((d) => `${d.view} ${d.key}: truth ${d.truth} mart ${d.mart}`),
        };
      },
      keep,
    ),
  (t, _range, keep) =>
    timed(
      'es driver_locations',
      async () => ({
        compared: await count(t.source, 'SELECT count(*)::text AS n FROM drivers'),
        diffs: (await diffDriverLatest(t.source, t.es, t.indexPrefix)).map(
          (d) => `${d.what}: expected ${line(d.expected)} actual ${line(d.actual)}`,
        ),
      }),
      keep,
    ),
  (t, range, keep) =>
    timed(
      'es booking_events',
      async () => {
        const diffs = await diffBookingEvents(t.source, t.es, t.indexPrefix, range);
        const steps = [
          'requested_at',
          'accepted_at',
          'arrived_at',
          'started_at',
          'completed_at',
          'cancelled_at',
        ];
        const n = steps
          .map((c) => (range ? `count(*) FILTER (WHERE ${c} >= $1 AND ${c} < $2)` : `count(${c})`))
          .join(' + ');
        return {
          compared: await count(t.source, `SELECT (${n})::text AS n FROM bookings`, params(range)),
          diffs: diffs.map((d) => `${d.what}: expected ${line(d.expected)} actual ${line(d.actual)}`),
        };
      },
      keep,
    ),
  (t, range, keep) =>
    timed(
      'es driver_locations_timeseries',
      async () => ({
        compared: await count(
          t.source,
          `SELECT count(*)::text AS n FROM driver_location_history ${inRange('recorded_at', range)}`,
          params(range),
        ),
        diffs: (await diffLocationTimeseries(t.source, t.es, t.indexPrefix, range)).map(
          (d) => `${d.what}: expected ${line(d.expected)} actual ${line(d.actual)}`,
        ),
      }),
      keep,
    ),
];

/**
 * Runs every check, one after the other (each already queries both sides at once, and the targets
 * may be single connections). With `waitMs` > 0 the checks that differ are repeated every 2 s until
 * they agree or the time is up: right after an incident the pipeline may still be catching up, and
 * a difference that vanishes was lag, not loss.
 */
export async function runVerify(
  t: VerifyTargets,
  opts: { range?: TimeRange; keep?: number; waitMs?: number } = {},
): Promise<VerifyResult> {
  const t0 = performance.now();
  const keep = opts.keep ?? 10;
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const all = async (prev?: CheckResult[]): Promise<CheckResult[]> => {
    const out: CheckResult[] = [];
    for (const [i, c] of CHECKS.entries())
      out.push(prev && prev[i]!.differences === 0 ? prev[i]! : await c(t, opts.range, keep));
    return out;
  };
  let results = await all();
  let rounds = 1;
  while (results.some((r) => r.differences > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    results = await all(results);
    rounds++;
  }
  return {
    range: opts.range ?? null,
    checks: results,
    differences: results.reduce((a, r) => a + r.differences, 0),
    elapsedMs: performance.now() - t0,
    rounds,
  };
}

export function formatVerify(r: VerifyResult): string {
  const out: string[] = [];
  out.push(
    `verify ${r.range ? `[${r.range.since.toISOString()}, ${r.range.until.toISOString()})` : 'whole history'}`,
  );
  for (const c of r.checks) {
    out.push(
      `  ${c.name.padEnd(32)} compared ${String(c.compared).padStart(9)}  differences ${String(c.differences).padStart(7)}  ${(c.ms / 1000).toFixed(2)} s`,
    );
  }
  for (const c of r.checks) {
    if (c.differences === 0) continue;
    out.push(`first differences in ${c.name}:`);
    for (const d of c.first) out.push(`  ${d}`);
  }
  out.push(
    `${r.differences === 0 ? 'OK: everything equals the source' : `FAILED: ${r.differences} differences`} (${(r.elapsedMs / 1000).toFixed(2)} s, ${r.rounds} round${r.rounds === 1 ? '' : 's'})`,
  );
  return out.join('\n');
}
