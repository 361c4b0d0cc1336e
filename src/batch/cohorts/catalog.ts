/**
 * The daily batch views' catalog (the sibling of src/project/metrics/catalog.ts for the minute/hour
 * KPIs): each view's table, key, what its columns mean and its truth SQL. docs/cohorts.md is
 * rendered from it (a unit test keeps them in sync) and every run writes it to
 * mart.batch_view_definition.
 */
import { churnSql, cohortRetentionSql, productivitySql, SOURCE_BOOKINGS } from './sql.js';

export interface BatchView {
  /** mart table (also the view's name). */
  name: 'cohort_retention' | 'churn_daily' | 'driver_productivity_daily';
  key: readonly string[];
  /** The business-day column a run's range applies to. */
  dayColumn: 'cohort_day' | 'business_day';
  /** Which lower bound applies: a run from day D recomputes cohorts from D − 7 (retention looks 7 days ahead). */
  from: 'cohort_from' | 'day_from';
  columns: readonly string[];
  description: string;
  sql: (bookings: string) => string;
}

export const BATCH_CATALOG: readonly BatchView[] = [
  {
    name: 'cohort_retention',
    key: ['cohort_kind', 'cohort_day', 'day_offset'],
    dayColumn: 'cohort_day',
    from: 'cohort_from',
    columns: ['cohort_kind', 'cohort_day', 'day_offset', 'cohort_size', 'retained', 'retention_rate'],
    description:
      'Riders (passenger_id) and drivers (driver_id) by the business day of their first completed trip (cohort_day); retained = members with a completed trip exactly day_offset (1, 3, 7) business days later; retention_rate = retained / cohort_size (6 decimals). A row appears once cohort_day + day_offset has closed.',
    sql: cohortRetentionSql,
  },
  {
    name: 'churn_daily',
    key: ['cohort_kind', 'business_day'],
    dayColumn: 'business_day',
    from: 'day_from',
    columns: ['cohort_kind', 'business_day', 'churn_days', 'churned', 'returned'],
    description:
      'churned = members whose completed trip on business_day − N was followed by no trip within N business days (they churned at the end of business_day); returned = members with a trip on business_day after more than N days without one. N = CHURN_DAYS (default 7). Rows where both are 0 are absent.',
    sql: churnSql,
  },
  {
    name: 'driver_productivity_daily',
    key: ['business_day'],
    dayColumn: 'business_day',
    from: 'day_from',
    columns: ['business_day', 'active_drivers', 'completed_trips', 'trips_per_active_driver'],
    description:
      'Drivers with at least one completed trip on the business day (by completed_at), their completed trips, and completed_trips / active_drivers (6 decimals).',
    sql: productivitySql,
  },
];

/** Truth for a view: its SQL over ride_hailing_db (same parameters as the batch). */
export function batchTruthSql(v: BatchView): string {
  return v.sql(SOURCE_BOOKINGS);
}

export function renderBatchCatalog(): string {
  const out = [
    '<!-- rendered from src/batch/cohorts/catalog.ts by renderBatchCatalog(); a unit test keeps it in sync -->',
    '',
  ];
  for (const v of BATCH_CATALOG) {
    out.push(
      `### \`mart.${v.name}\``,
      '',
      v.description,
      '',
      `Key: ${v.key.map((k) => `\`${k}\``).join(', ')}.`,
    );
    out.push('', 'Truth SQL over ride_hailing_db:', '', '```sql', batchTruthSql(v), '```', '');
  }
  return out.join('\n');
}
