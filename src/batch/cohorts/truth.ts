/**
 * The daily batch views of the mart against their truth SQL over ride_hailing_db, row for row
 * (every column, exact text). Used by `ride-cdc verify` and the e2e test.
 */
import type pg from 'pg';
import type { BatchConfig } from '../business-day.js';
import { BATCH_CATALOG, batchTruthSql } from './catalog.js';
import { batchParams, businessToday } from './run.js';

type Queryable = Pick<pg.ClientBase, 'query'>;

export interface CohortDiff {
  view: string;
  key: string;
  truth: string | null;
  mart: string | null;
}

/** Business days [from, until) to compare; default the whole history up to the open day. */
export interface DayRange {
  from: string;
  until: string;
}

export async function diffCohorts(
  source: Queryable,
  reporting: Queryable,
  cfg: Pick<BatchConfig, 'timezone' | 'churnDays'>,
  days?: DayRange,
): Promise<{ diffs: CohortDiff[]; rows: number }> {
  const today = await businessToday(reporting, cfg.timezone);
  const from = days?.from ?? '-infinity';
  const until = days && days.until < today ? days.until : today;
  const params = batchParams(cfg, { cohortFrom: from, dayFrom: from, dayUntil: until, today });
  const diffs: CohortDiff[] = [];
  let rows = 0;
  for (const v of BATCH_CATALOG) {
    const cols = v.columns.map((c) => `${c}::text AS ${c}`).join(', ');
    const [truth, mart] = await Promise.all([
      source.query<Record<string, string>>(`SELECT ${cols} FROM (${batchTruthSql(v)}) AS q`, params),
      reporting.query<Record<string, string>>(
        `SELECT ${cols} FROM mart.${v.name} WHERE ${v.dayColumn} >= $1::date AND ${v.dayColumn} < $2::date`,
        [from, until],
      ),
    ]);
    rows += truth.rows.length;
    const key = (r: Record<string, string>) => v.key.map((k) => r[k]).join('|');
    const t = new Map(truth.rows.map((r) => [key(r), JSON.stringify(r)]));
    const m = new Map(mart.rows.map((r) => [key(r), JSON.stringify(r)]));
    for (const [k, tr] of t)
      if (m.get(k) !== tr) diffs.push({ view: v.name, key: k, truth: tr, mart: m.get(k) ?? null });
    for (const [k, mr] of m) if (!t.has(k)) diffs.push({ view: v.name, key: k, truth: null, mart: mr });
  }
  return { diffs, rows };
}
