import type pg from 'pg';
import { CATALOG } from '../../src/project/metrics/catalog.js';
import {
  diffMetricRows,
  truthSql,
  type MetricRow,
  type MetricRowDiff,
} from '../../src/project/metrics/truth-sql.js';

/**
 * The KPI subset the Flink peer computes (MINUTE and HOUR, dimension 'all' and per zone), and its
 * truth check, shared by the Flink row and the ride-cdc row that drains the same topic.
 */
export const FLINK_KPIS = [
  'bookings_requested',
  'bookings_completed',
  'bookings_cancelled',
  'gmv',
  'avg_fare',
];

const inSubset = (r: MetricRow) =>
  FLINK_KPIS.includes(r.metric_name) && (r.dimension === 'all' || r.dimension.startsWith('zone:'));

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Truth SQL of the subset over the source, compared row for row with `rows` (exact decimals). */
export async function diffKpiSubset(
  source: Queryable,
  rows: readonly MetricRow[],
): Promise<{ diffs: MetricRowDiff[]; truthRows: number }> {
  const truth: MetricRow[] = [];
  for (const name of FLINK_KPIS)
    truth.push(...(await source.query<MetricRow>(truthSql(CATALOG.find((m) => m.name === name)!))).rows);
  const t = truth.filter(inSubset);
  return { diffs: diffMetricRows(t, rows.filter(inSubset)), truthRows: t.length };
}
