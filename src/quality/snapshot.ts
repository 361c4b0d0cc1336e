/**
 * Data quality of the pipeline's outputs, per captured table: completeness (rows in the source vs
 * the mart's state rows vs Elasticsearch documents) and freshness (the newest business timestamp on
 * each side). A snapshot is written to mart.data_quality and exported as the
 * ride_cdc_data_quality_* gauges the alert rules use. Duplicates and replays are counted by the
 * worker itself (ride_cdc_messages_skipped_total{kind="already-committed"}, per topic); the capture
 * heartbeat's freshness is ride_cdc_capture_freshness_seconds{table} (src/observe/metrics.ts).
 */
import type { Client as EsClient } from '@elastic/elasticsearch';
import type pg from 'pg';
import type { Metrics } from '../observe/metrics.js';

type Queryable = Pick<pg.ClientBase, 'query'>;

export interface QualityTargets {
  source: Queryable;
  reporting: Queryable;
  es: EsClient;
  indexPrefix: string;
}

export interface QualityRow {
  table_name: string;
  store: 'mart' | 'es';
  expected: number;
  actual: number;
  newest_source_at: Date | null;
  newest_store_at: Date | null;
}

interface Side {
  /** SQL returning n (count) and newest (timestamptz or NULL). */
  sql: string;
}

interface Check {
  table: string;
  store: 'mart' | 'es';
  source: Side;
  /** The store side: SQL on reporting_db, or an Elasticsearch index counted. */
  mart?: Side;
  esIndex?: (prefix: string) => string;
}

const STEPS = ['requested_at', 'accepted_at', 'arrived_at', 'started_at', 'completed_at', 'cancelled_at'];

export const QUALITY_CHECKS: readonly Check[] = [
  {
    table: 'bookings',
    store: 'mart',
    source: { sql: 'SELECT count(*) AS n, max(updated_at) AS newest FROM bookings' },
    mart: {
      sql: 'SELECT count(*) AS n, max(source_updated_at) AS newest FROM mart.fact_booking WHERE booking_present',
    },
  },
  {
    table: 'bookings',
    store: 'es',
    source: {
      sql: `SELECT (${STEPS.map((c) => `count(${c})`).join(' + ')}) AS n, max(updated_at) AS newest FROM bookings`,
    },
    esIndex: (p) => `${p}booking_events-*`,
  },
  {
    table: 'drivers',
    store: 'mart',
    source: { sql: 'SELECT count(*) AS n, max(updated_at) AS newest FROM drivers' },
    mart: { sql: 'SELECT count(*) AS n, max(source_updated_at) AS newest FROM mart.driver_state' },
  },
  {
    table: 'drivers',
    store: 'es',
    source: { sql: 'SELECT count(*) AS n, max(updated_at) AS newest FROM drivers' },
    esIndex: (p) => `${p}driver_locations`,
  },
  {
    table: 'passengers',
    store: 'mart',
    source: { sql: 'SELECT count(*) AS n, max(created_at) AS newest FROM passengers' },
    mart: { sql: 'SELECT count(*) AS n, max(created_at) AS newest FROM mart.passenger_state' },
  },
  {
    table: 'payments',
    store: 'mart',
    source: { sql: 'SELECT count(*) AS n, max(paid_at) AS newest FROM payments' },
    mart: { sql: 'SELECT count(*) AS n, max(paid_at) AS newest FROM mart.payment_state' },
  },
  {
    table: 'ratings',
    store: 'mart',
    source: { sql: 'SELECT count(*) AS n, max(rated_at) AS newest FROM ratings' },
    mart: { sql: 'SELECT count(*) AS n, max(rated_at) AS newest FROM mart.rating_state' },
  },
  {
    table: 'zones',
    store: 'mart',
    source: { sql: 'SELECT count(*) AS n, NULL::timestamptz AS newest FROM zones' },
    mart: { sql: 'SELECT count(*) AS n, NULL::timestamptz AS newest FROM mart.dim_zone' },
  },
];

async function side(q: Queryable, s: Side): Promise<{ n: number; newest: Date | null }> {
  const r = (await q.query<{ n: string; newest: Date | null }>(s.sql)).rows[0]!;
  return { n: Number(r.n), newest: r.newest };
}

export async function takeQualitySnapshot(t: QualityTargets): Promise<QualityRow[]> {
  const out: QualityRow[] = [];
  for (const c of QUALITY_CHECKS) {
    const src = await side(t.source, c.source);
    let actual: { n: number; newest: Date | null };
    if (c.mart) {
      actual = await side(t.reporting, c.mart);
    } else {
      const index = c.esIndex!(t.indexPrefix);
      const r = await t.es.count({ index, allow_no_indices: true, ignore_unavailable: true });
      actual = { n: r.count, newest: null };
    }
    out.push({
      table_name: c.table,
      store: c.store,
      expected: src.n,
      actual: actual.n,
      newest_source_at: src.newest,
      newest_store_at: actual.newest,
    });
  }
  return out;
}

/** Appends the snapshot to mart.data_quality (one timestamp for all rows) and drops rows older than a week. */
export async function saveQualitySnapshot(reporting: Queryable, rows: readonly QualityRow[]): Promise<void> {
  await reporting.query(
    `INSERT INTO mart.data_quality (taken_at, table_name, store, expected, actual, newest_source_at, newest_store_at)
     SELECT now(), x.table_name, x.store, x.expected, x.actual, x.newest_source_at, x.newest_store_at
       FROM jsonb_to_recordset($1::jsonb) AS x(table_name text, store text, expected bigint, actual bigint,
            newest_source_at timestamptz, newest_store_at timestamptz)`,
    [JSON.stringify(rows)],
  );
  await reporting.query("DELETE FROM mart.data_quality WHERE taken_at < now() - interval '7 days'");
}

export function exportQualityGauges(
  metrics: Pick<Metrics, 'dataQualityRows' | 'dataQualityMissing' | 'dataQualityNewestAge'>,
  rows: readonly QualityRow[],
  now = Date.now(),
): void {
  for (const r of rows) {
    metrics.dataQualityRows.set({ table: r.table_name, store: r.store }, r.actual);
    if (r.store === 'mart') metrics.dataQualityRows.set({ table: r.table_name, store: 'source' }, r.expected);
    metrics.dataQualityMissing.set({ table: r.table_name, store: r.store }, r.expected - r.actual);
    if (r.newest_source_at)
      metrics.dataQualityNewestAge.set(
        { table: r.table_name, store: 'source' },
        (now - r.newest_source_at.getTime()) / 1000,
      );
    if (r.newest_store_at)
      metrics.dataQualityNewestAge.set(
        { table: r.table_name, store: r.store },
        (now - r.newest_store_at.getTime()) / 1000,
      );
  }
}

export function formatQuality(rows: readonly QualityRow[]): string {
  const lines = [
    `${'TABLE'.padEnd(12)} ${'STORE'.padEnd(5)} ${'SOURCE'.padStart(9)} ${'STORE'.padStart(9)} ${'MISSING'.padStart(8)}  NEWEST (source / store)`,
  ];
  for (const r of rows)
    lines.push(
      `${r.table_name.padEnd(12)} ${r.store.padEnd(5)} ${String(r.expected).padStart(9)} ${String(r.actual).padStart(9)} ${String(r.expected - r.actual).padStart(8)}  ${r.newest_source_at?.toISOString() ?? '-'} / ${r.newest_store_at?.toISOString() ?? '-'}`,
    );
  return lines.join('\n');
}
