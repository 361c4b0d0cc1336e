import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, renderCatalog, updateDoc } from '../../src/project/metrics/catalog-doc.js';
import { CATALOG, type MetricDef, METRICS, ONE, validateCatalog } from '../../src/project/metrics/catalog.js';
import {
  allTruthSql,
  diffMetricRows,
  type MetricRow,
  truthSql,
  valueSql,
  windowTruthSql,
} from '../../src/project/metrics/truth-sql.js';

const REQUIRED: Record<string, { kind: MetricDef['kind']; time: string | null }> = {
  bookings_requested: { kind: 'count', time: 'bookings.requested_at' },
  bookings_accepted: { kind: 'count', time: 'bookings.accepted_at' },
  bookings_completed: { kind: 'count', time: 'bookings.completed_at' },
  bookings_cancelled: { kind: 'count', time: 'bookings.cancelled_at' },
  gmv: { kind: 'sum', time: 'bookings.completed_at' },
  avg_fare: { kind: 'avg', time: 'bookings.completed_at' },
  avg_trip_duration_s: { kind: 'avg', time: 'bookings.completed_at' },
  avg_time_to_accept_s: { kind: 'avg', time: 'bookings.accepted_at' },
  match_rate: { kind: 'ratio', time: 'bookings.requested_at' },
  cancellation_rate: { kind: 'ratio', time: 'bookings.requested_at' },
  active_drivers: { kind: 'distinct', time: 'bookings.completed_at' },
  active_passengers: { kind: 'distinct', time: 'bookings.requested_at' },
  drivers_online: { kind: 'gauge', time: null },
  drivers_busy: { kind: 'gauge', time: null },
  driver_utilization: { kind: 'gauge', time: null },
};

const timeKey = (m: MetricDef) => (m.parts[0]?.time ? `${m.parts[0].source}.${m.parts[0].time}` : null);

describe('KPI catalog', () => {
  it('has at least 30 KPIs in the three groups, uniquely named', () => {
    expect(CATALOG.length).toBeGreaterThanOrEqual(30);
    for (const g of ['Passenger', 'Driver', 'Operation'])
      expect(CATALOG.filter((m) => m.group === g).length).toBeGreaterThanOrEqual(5);
    expect(new Set(CATALOG.map((m) => m.name)).size).toBe(CATALOG.length);
  });

  it('defines the required KPIs with their kind and event-time key', () => {
    for (const [name, want] of Object.entries(REQUIRED)) {
      const m = METRICS.get(name);
      expect(m, name).toBeDefined();
      expect({ kind: m?.kind, time: m && timeKey(m) }, name).toEqual(want);
    }
    expect(METRICS.get('driver_utilization')?.valueRule).toBe('ratio');
    expect(METRICS.get('bookings_cancelled')?.parts[0]?.dimensions.map((d) => d.name)).toContain(
      'cancelled_by',
    );
  });

  it('flows have MINUTE and HOUR and the all dimension; gauges have no bucket', () => {
    for (const m of CATALOG) {
      expect(m.granularities, m.name).toEqual(m.kind === 'gauge' ? [] : ['MINUTE', 'HOUR']);
      for (const p of m.parts) expect(p.dimensions[0]?.name, m.name).toBe('all');
    }
  });

  it('rejects definitions that could not be exact', () => {
    const base = CATALOG.find((m) => m.name === 'bookings_requested') as MetricDef;
    expect(() => validateCatalog([base, base])).toThrow(/duplicate/);
    const part = base.parts[0] as MetricDef['parts'][number];
    expect(() => validateCatalog([{ ...base, parts: [{ ...part, time: 'paid_at' }] }])).toThrow(
      /not kept in state|IS NOT NULL/,
    );
    expect(() => validateCatalog([{ ...base, parts: [{ ...part, dimensions: [] }] }])).toThrow(/all/);
    expect(() => validateCatalog([{ ...base, kind: 'gauge' }])).toThrow(/granularity/);
    const distinct = CATALOG.find((m) => m.name === 'active_passengers') as MetricDef;
    expect(() =>
      validateCatalog([{ ...distinct, parts: [...distinct.parts, { ...part, numerator: ONE }] }]),
    ).toThrow(/distinct/);
  });

  it('docs/kpis.md carries the current generated catalog', () => {
    const doc = readFileSync(DOC_PATH, 'utf8');
    expect(updateDoc(doc)).toBe(doc);
    for (const m of CATALOG) expect(renderCatalog()).toContain(`#### ${m.name}`);
  });

  it('the mart views only name KPIs that exist', () => {
    const dir = new URL('../../mart-sql/reporting/', import.meta.url);
    const sql = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .map((f) => readFileSync(new URL(f, dir), 'utf8'))
      .join('\n');
    const named = new Set<string>();
    for (const m of sql.matchAll(/metric_name\s*(?:=|IN\s*\()\s*([^)\n]*)/g)) {
      for (const lit of (m[1] ?? '').matchAll(/'([a-z0-9_]+)'/g)) named.add(lit[1] as string);
    }
    expect(named.size).toBeGreaterThan(10);
    for (const n of named) expect(METRICS.has(n), n).toBe(true);
  });
});

describe('truth SQL', () => {
  it('buckets flows by UTC minute and hour of the event-time key and returns the mart columns', () => {
    const sql = truthSql(METRICS.get('gmv') as MetricDef);
    expect(sql).toContain(`date_trunc(g.unit, completed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`);
    expect(sql).toContain(`(VALUES ('MINUTE', 'minute'), ('HOUR', 'hour'))`);
    expect(sql).toContain('sum(final_fare)::numeric AS numerator');
    expect(sql).toMatch(/^SELECT 'gmv'::text AS metric_name, bucket_granularity, bucket_start, dimension,/);
  });

  it('uses COUNT(DISTINCT) for distinct sides and the mart value expression for ratios', () => {
    expect(truthSql(METRICS.get('active_passengers') as MetricDef)).toContain(
      'count(DISTINCT passenger_id::text)::numeric AS numerator',
    );
    expect(truthSql(METRICS.get('trips_per_active_driver') as MetricDef)).toContain(
      'count(DISTINCT driver_id::text)::numeric AS denominator',
    );
    expect(truthSql(METRICS.get('match_rate') as MetricDef)).toContain(
      valueSql('ratio', 'sum(numerator)', 'sum(denominator)'),
    );
    expect(valueSql('ratio')).toBe('round(numerator / NULLIF(denominator, 0), 6)');
  });

  it('gauges are CURRENT rows; multi-table gauges union their parts', () => {
    const sql = truthSql(METRICS.get('demand_supply_ratio') as MetricDef);
    expect(sql).toContain(`'CURRENT'::text AS bucket_granularity`);
    expect(sql).toContain('FROM public.bookings');
    expect(sql).toContain('FROM public.drivers');
    expect(sql).toContain('UNION ALL');
  });

  it('window truth filters the event-time key to [$1, $2)', () => {
    const sql = windowTruthSql(METRICS.get('active_drivers') as MetricDef);
    expect(sql).toContain('completed_at >= $1::timestamptz AND completed_at < $2::timestamptz');
    expect(allTruthSql().match(/^\(SELECT /gm)).toHaveLength(CATALOG.length);
  });
});

describe('diffMetricRows', () => {
  const row = (over: Partial<MetricRow>): MetricRow => ({
    metric_name: 'gmv',
    bucket_granularity: 'MINUTE',
    bucket_start: '2026-11-21T04:32:00Z',
    dimension: 'all',
    numerator: '10.50',
    denominator: '1',
    metric_value: '10.50',
    ...over,
  });

  it('compares exact values, not their text', () => {
    expect(
      diffMetricRows(
        [row({})],
        [row({ numerator: '10.5', metric_value: '10.5', bucket_start: new Date('2026-11-21T04:32:00Z') })],
      ),
    ).toEqual([]);
  });

  it('reports missing, extra and different rows; empty mart rows count as absent', () => {
    const diffs = diffMetricRows(
      [row({}), row({ dimension: 'zone:1' })],
      [
        row({ numerator: '10.51' }),
        row({ dimension: 'zone:2' }),
        row({ dimension: 'zone:3', numerator: '0', denominator: '0', metric_value: '0' }),
      ],
    );
    expect(diffs.map((d) => [d.key.split('|').pop(), d.truth !== null, d.mart !== null])).toEqual([
      ['all', true, true],
      ['zone:1', true, false],
      ['zone:2', false, true],
    ]);
    expect(diffMetricRows([row({ metric_value: null })], [row({ metric_value: '0' })])).toHaveLength(1);
  });
});
