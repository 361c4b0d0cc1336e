/**
 * `ride-cdc cohorts run`: recomputes the daily batch views for a range of business days from the
 * mart's booking states, in one reporting_db transaction (delete the range, insert it again), so a
 * run is idempotent and readers never see a half-written day. Two runs at once serialise on an
 * advisory lock.
 */
import type pg from 'pg';
import { ConfigError } from '../../shared/errors.js';
import { addDays, type BatchConfig } from '../business-day.js';
import { BATCH_CATALOG, batchTruthSql, type BatchView } from './catalog.js';
import { MART_BOOKINGS } from './sql.js';

export type CohortRange =
  /** The rows dated D (cohort day D, churn and productivity of day D). */
  | { day: string }
  /**
   * Every row that trips on days ≥ D can change: cohorts from D − 7 (retention looks up to 7 days
   * ahead), churn and productivity from D; up to the last closed day.
   */
  | { since: string };

export interface CohortRunResult {
  today: string;
  cohortFrom: string;
  dayFrom: string;
  dayUntil: string;
  rows: Record<BatchView['name'], number>;
  ms: number;
}

/** Parameters shared by the batch and its truth: $1 tz … $6 churn days (see sql.ts). */
export function batchParams(
  cfg: Pick<BatchConfig, 'timezone' | 'churnDays'>,
  b: { cohortFrom: string; dayFrom: string; dayUntil: string; today: string },
): unknown[] {
  return [cfg.timezone, b.cohortFrom, b.dayFrom, b.dayUntil, b.today, cfg.churnDays];
}

/** Today's business day by the database's clock (the batch and its truth agree on it). */
export async function businessToday(q: Pick<pg.ClientBase, 'query'>, timezone: string): Promise<string> {
  return (await q.query<{ d: string }>('SELECT (now() AT TIME ZONE $1::text)::date::text AS d', [timezone]))
    .rows[0]!.d;
}

export async function runCohorts(
  pool: pg.Pool,
  cfg: Pick<BatchConfig, 'timezone' | 'churnDays'>,
  range: CohortRange,
): Promise<CohortRunResult> {
  const t0 = performance.now();
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query("SELECT pg_advisory_xact_lock(hashtextextended('ride-cdc:cohorts', 0))");
    const today = await businessToday(c, cfg.timezone);
    const b =
      'day' in range
        ? { cohortFrom: range.day, dayFrom: range.day, dayUntil: addDays(range.day, 1), today }
        : { cohortFrom: addDays(range.since, -7), dayFrom: range.since, dayUntil: today, today };
    if (b.dayFrom >= today) {
      await c.query('ROLLBACK');
      throw new ConfigError(
        `business day ${b.dayFrom} has not closed yet (today is ${today} in ${cfg.timezone})`,
      );
    }
    const params = batchParams(cfg, b);
    const rows = {} as CohortRunResult['rows'];
    for (const v of BATCH_CATALOG) {
      const from = v.from === 'cohort_from' ? b.cohortFrom : b.dayFrom;
      await c.query(`DELETE FROM mart.${v.name} WHERE ${v.dayColumn} >= $1 AND ${v.dayColumn} < $2`, [
        from,
        b.dayUntil,
      ]);
      const res = await c.query(
        `INSERT INTO mart.${v.name} (${v.columns.join(', ')}) SELECT ${v.columns.join(', ')} FROM (${v.sql(MART_BOOKINGS)}) AS q`,
        params,
      );
      rows[v.name] = res.rowCount ?? 0;
      await c.query(
        `INSERT INTO mart.batch_view_definition (view_name, description, business_timezone, truth_sql, updated_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (view_name) DO UPDATE SET description = EXCLUDED.description,
           business_timezone = EXCLUDED.business_timezone, truth_sql = EXCLUDED.truth_sql, updated_at = now()`,
        [v.name, v.description, cfg.timezone, batchTruthSql(v)],
      );
    }
    await c.query('COMMIT');
    return { ...b, rows, ms: performance.now() - t0 };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
