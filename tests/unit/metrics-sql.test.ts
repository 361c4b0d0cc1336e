import { describe, expect, it } from 'vitest';
import { paymentCopyBookingIds, statusHistory } from '../../src/project/bookings/status-history.js';
import {
  lockBookingRowsSql,
  paymentCopySql,
  releaseBookingRowsSql,
  replaceStatusHistorySql,
} from '../../src/sink/mart/sql/booking-sql.js';
import type { AdditiveDelta, Delta, MemberDelta } from '../../src/project/metrics/delta.js';
import {
  deleteStatesSql,
  selectStatesSql,
  stateFromDb,
  upsertStatesSql,
} from '../../src/sink/mart/sql/state-sql.js';
import type { BookingState, PaymentState } from '../../src/project/metrics/state.js';
import { CATALOG } from '../../src/project/metrics/catalog.js';
import {
  additiveStatements,
  emptiedCleanupSql,
  catalogSyncStatements,
  memberStatements,
  planMetricWrite,
  transitionsToDeltas,
} from '../../src/sink/mart/sql/metric-sql.js';

const add = (
  metric: string,
  bucketStart: string | null,
  dimension: string,
  num: string,
  den: string,
  granularity: AdditiveDelta['granularity'] = 'MINUTE',
): AdditiveDelta => ({
  kind: 'add',
  metric,
  granularity: bucketStart === null ? 'CURRENT' : granularity,
  bucketStart,
  dimension,
  num,
  den,
});
const member = (
  metric: string,
  bucketStart: string,
  dimension: string,
  m: string,
  ref: number,
  part: MemberDelta['part'] = 'numerator',
): MemberDelta => ({
  kind: 'member',
  metric,
  granularity: 'MINUTE',
  bucketStart,
  dimension,
  part,
  member: m,
  ref,
});

const M1 = '2026-11-21T04:32:00.000Z';
const M0 = '2026-11-21T04:31:00.000Z';

describe('additive upserts', () => {
  it('one parameterised multi-row upsert per target, rows merged and sorted by key, returning the rows it emptied', () => {
    const statements = additiveStatements([
      add('gmv', M1, 'all', '10.50', '1'),
      add('bookings_completed', M1, 'all', '1', '1'),
      add('gmv', M1, 'all', '-0.50', '0'),
      add('avg_fare', M0, 'zone:3', '10', '1'),
      add('drivers_online', null, 'all', '1', '1'),
      add('match_rate', M0, 'all', '0', '0'),
    ]);
    expect(statements.map((s) => s.text.split('\n')[1])).toEqual([
      'INSERT INTO mart.fact_metric_bucket AS f',
      'INSERT INTO mart.metric_gauge AS g (metric_name, dimension, value_rule, numerator, denominator)',
    ]);
    const [bucket, gauge] = statements;
    expect(bucket?.text).toMatch(/FROM up WHERE numerator = 0 AND denominator = 0$/);
    expect(gauge?.text).toMatch(/FROM up WHERE numerator = 0 AND denominator = 0$/);
    expect(bucket?.text).toContain(
      'ON CONFLICT (bucket_granularity, bucket_start, metric_name, dimension) DO UPDATE',
    );
    expect(bucket?.text).toContain('numerator = f.numerator + EXCLUDED.numerator');
    expect(bucket?.text).toContain('ORDER BY i.ord');
    expect(bucket?.values).toEqual([
      ['MINUTE', 'MINUTE', 'MINUTE'],
      [M0, M1, M1],
      ['avg_fare', 'bookings_completed', 'gmv'],
      ['zone:3', 'all', 'all'],
      ['ratio', 'numerator', 'numerator'],
      ['10', '1', '10'],
      ['1', '1', '1'],
    ]);
    expect(gauge?.values).toEqual([['drivers_online'], ['all'], ['numerator'], ['1'], ['1']]);
  });

  it('splits big batches into ordered chunks with a fixed number of parameters', () => {
    const deltas = Array.from({ length: 5 }, (_, i) => add('bookings_requested', M1, `zone:${i}`, '1', '1'));
    const statements = additiveStatements(deltas, 2);
    const upserts = statements.filter((s) => s.text.includes('INSERT INTO mart.fact_metric_bucket'));
    expect(upserts.map((s) => s.values[3])).toEqual([['zone:0', 'zone:1'], ['zone:2', 'zone:3'], ['zone:4']]);
    for (const s of upserts) expect(s.values).toHaveLength(7);
  });

  it('the cleanup deletes exactly the emptied rows the upserts returned, buckets then gauges; none: no statement', () => {
    expect(emptiedCleanupSql([])).toEqual([]);
    const cleanup = emptiedCleanupSql([
      {
        target: 'gauge',
        bucket_granularity: 'CURRENT',
        bucket_start: null,
        metric_name: 'drivers_busy',
        dimension: 'all',
      },
      {
        target: 'bucket',
        bucket_granularity: 'MINUTE',
        bucket_start: M1,
        metric_name: 'gmv',
        dimension: 'zone:3',
      },
    ]);
    expect(cleanup.map((s) => s.text.split('\n')[1])).toEqual([
      'DELETE FROM mart.fact_metric_bucket f',
      'DELETE FROM mart.metric_gauge g',
    ]);
    // The deleting statement records each key for the KPI mirror, in the same transaction.
    for (const s of cleanup) expect(s.text).toContain('INSERT INTO mart.kpi_mirror_tombstone');
    expect(cleanup[0]?.values).toEqual([['MINUTE'], [M1], ['gmv'], ['zone:3']]);
    expect(cleanup[1]?.values).toEqual([['drivers_busy'], ['all']]);
    for (const s of cleanup) expect(s.text).toContain('numerator = 0 AND');
  });

  it('rejects deltas for metrics that are not in the catalog', () => {
    expect(() => additiveStatements([add('nope', M1, 'all', '1', '1')])).toThrow(/unknown metric/);
  });
});

describe('distinct member upserts', () => {
  it('upserts ref counts and returns transitions; cleanup removes members at zero', () => {
    const { upserts, cleanups } = memberStatements([
      member('active_passengers', M1, 'all', '11', 1),
      member('active_passengers', M1, 'all', '10', 2),
      member('active_passengers', M1, 'all', '10', -1),
    ]);
    expect(upserts).toHaveLength(1);
    expect(upserts[0]?.text).toContain('ref_count = m.ref_count + EXCLUDED.ref_count');
    expect(upserts[0]?.text).toContain('RETURNING');
    expect(upserts[0]?.values).toEqual([
      ['MINUTE', 'MINUTE'],
      [M1, M1],
      ['active_passengers', 'active_passengers'],
      ['all', 'all'],
      ['10', '11'],
      ['numerator', 'numerator'],
      [1, 1],
    ]);
    expect(cleanups[0]?.text).toContain('m2.ref_count = 0');
  });

  it('turns transitions into deltas on the side the members feed', () => {
    expect(
      transitionsToDeltas([
        {
          bucket_granularity: 'MINUTE',
          bucket_start: M1,
          metric_name: 'active_drivers',
          dimension: 'all',
          part: 'numerator',
          change: '1',
        },
        {
          bucket_granularity: 'HOUR',
          bucket_start: '2026-11-21T04:00:00.000Z',
          metric_name: 'trips_per_active_driver',
          dimension: 'vehicle:car',
          part: 'denominator',
          change: -1,
        },
      ]),
    ).toEqual([
      add('active_drivers', M1, 'all', '1', '0'),
      add('trips_per_active_driver', '2026-11-21T04:00:00.000Z', 'vehicle:car', '0', '-1', 'HOUR'),
    ]);
    expect(() =>
      transitionsToDeltas([
        {
          bucket_granularity: 'MINUTE',
          bucket_start: M1,
          metric_name: 'active_drivers',
          dimension: 'all',
          part: 'denominator',
          change: 1,
        },
      ]),
    ).toThrow();
  });

  it('a batch plan folds transitions into the same single sorted bucket upsert', () => {
    const deltas: Delta[] = [
      add('active_passengers', M1, 'all', '0', '1'),
      member('active_passengers', M1, 'all', '10', 1),
      add('drivers_busy', null, 'all', '-1', '-1'),
    ];
    const plan = planMetricWrite(deltas);
    expect(plan.memberUpserts).toHaveLength(1);
    const after = plan.afterMembers([
      {
        bucket_granularity: 'MINUTE',
        bucket_start: M1,
        metric_name: 'active_passengers',
        dimension: 'all',
        part: 'numerator',
        change: '1',
      },
    ]);
    expect(after.map((s) => s.text.split('\n')[0])).toEqual([
      'DELETE FROM mart.metric_member m WHERE m.ctid = ANY (ARRAY(',
      'WITH up AS (',
      'WITH up AS (',
    ]);
    expect(after.map((s) => s.text.split('\n')[1])).toContain('INSERT INTO mart.fact_metric_bucket AS f');
    const bucket = after[1];
    expect(bucket?.values[2]).toEqual(['active_passengers']);
    expect([bucket?.values[5], bucket?.values[6]]).toEqual([['1'], ['1']]);
    expect(planMetricWrite([]).memberUpserts).toEqual([]);
    expect(planMetricWrite([]).afterMembers([])).toEqual([]);
  });
});

describe('catalog sync', () => {
  it('upserts every KPI with its truth SQL and deletes the ones no longer defined', () => {
    const [upsert, prune] = catalogSyncStatements();
    const rows = JSON.parse(upsert?.values[0] as string) as {
      metric_name: string;
      truth_sql: string;
      distinct_part: string | null;
      event_time_key: string | null;
    }[];
    expect(rows.map((r) => r.metric_name)).toEqual(CATALOG.map((m) => m.name));
    expect(rows.find((r) => r.metric_name === 'trips_per_active_driver')?.distinct_part).toBe('denominator');
    expect(rows.find((r) => r.metric_name === 'drivers_online')?.event_time_key).toBeNull();
    expect(rows.find((r) => r.metric_name === 'gmv')?.event_time_key).toBe('bookings.completed_at');
    expect(prune?.values[0]).toHaveLength(CATALOG.length);
  });
});

const booking = (over: Partial<Record<keyof BookingState, string | null>>): BookingState =>
  ({
    id: '9',
    booking_uuid: null,
    passenger_id: '1',
    driver_id: null,
    status: 'requested',
    vehicle_type: 'car',
    pickup_lat: null,
    pickup_lon: null,
    pickup_zone_id: '1',
    dropoff_lat: null,
    dropoff_lon: null,
    dropoff_zone_id: '1',
    requested_at: '2026-11-21T04:00:00Z',
    accepted_at: null,
    arrived_at: null,
    started_at: null,
    completed_at: null,
    cancelled_at: null,
    cancelled_by: null,
    cancel_reason: null,
    estimated_fare: null,
    final_fare: null,
    distance_km: null,
    surge_multiplier: '1.00',
    payment_method: 'cash',
    updated_at: null,
    ...over,
  }) as BookingState;

describe('state tables', () => {
  it('reads states locked, in numeric id order, as text in state format', () => {
    const s = selectStatesSql('bookings', ['10', '9', '100']);
    expect(s.values).toEqual([['9', '10', '100']]);
    expect(s.text).toContain('FROM mart.fact_booking');
    expect(s.text).toContain('AND booking_present');
    expect(s.text).toContain('FOR UPDATE');
    expect(s.text).toContain(
      `to_char(requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS requested_at`,
    );
    expect(s.text).toContain('booking_id::text AS id');
    expect(s.text).toContain(
      `to_char(source_updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at`,
    );
  });

  it('round-trips a state through its row', () => {
    const b = booking({ final_fare: '10.50' });
    expect(stateFromDb('bookings', { ...b, pickup_zone_id: 1 })).toEqual(b);
  });

  it('upserts states column-wise in id order, marking bookings present', () => {
    const s = upsertStatesSql('bookings', [booking({ id: '20' }), booking({ id: '3', status: 'accepted' })]);
    expect(s?.text).toContain('INSERT INTO mart.fact_booking AS t (booking_id,');
    expect(s?.text).toContain('booking_present = true');
    expect(s?.text).toContain('source_updated_at = EXCLUDED.source_updated_at');
    expect(s?.values[0]).toEqual(['3', '20']);
    expect(s?.values[4]).toEqual(['accepted', 'requested']);
    expect(upsertStatesSql('drivers', [])).toBeNull();
  });

  it('deletes states; a booking row that still holds a payment stays as a placeholder', () => {
    expect(deleteStatesSql('payments', ['2', '1'])).toEqual([
      { text: 'DELETE FROM mart.payment_state WHERE payment_id = ANY($1::bigint[])', values: [['1', '2']] },
    ]);
    const b = deleteStatesSql('bookings', ['5']);
    expect(b).toHaveLength(2);
    expect(b[0]?.text).toContain('booking_present = false');
    expect(b[1]?.text).toContain('AND payment_id IS NULL');
    expect(deleteStatesSql('bookings', [])).toEqual([]);
  });
});

describe('booking facts', () => {
  it('status history follows the timestamps, including skipped events, with exact seconds', () => {
    const b = booking({
      status: 'completed',
      requested_at: '2026-11-21T04:00:00Z',
      accepted_at: '2026-11-21T04:00:30.5Z',
      arrived_at: '2026-11-21T04:05:00Z',
      started_at: '2026-11-21T04:06:00.000001Z',
      completed_at: '2026-11-21T04:30:00Z',
    });
    expect(statusHistory(b)).toEqual([
      {
        booking_id: '9',
        to_status: 'requested',
        from_status: null,
        changed_at: '2026-11-21T04:00:00Z',
        seconds_in_previous: null,
      },
      {
        booking_id: '9',
        to_status: 'accepted',
        from_status: 'requested',
        changed_at: '2026-11-21T04:00:30.5Z',
        seconds_in_previous: '30.5',
      },
      {
        booking_id: '9',
        to_status: 'arrived',
        from_status: 'accepted',
        changed_at: '2026-11-21T04:05:00Z',
        seconds_in_previous: '269.5',
      },
      {
        booking_id: '9',
        to_status: 'in_progress',
        from_status: 'arrived',
        changed_at: '2026-11-21T04:06:00.000001Z',
        seconds_in_previous: '60.000001',
      },
      {
        booking_id: '9',
        to_status: 'completed',
        from_status: 'in_progress',
        changed_at: '2026-11-21T04:30:00Z',
        seconds_in_previous: '1439.999999',
      },
    ]);
    const cancelled = statusHistory(
      booking({
        status: 'cancelled',
        accepted_at: '2026-11-21T04:01:00Z',
        cancelled_at: '2026-11-21T04:03:00Z',
        cancelled_by: 'driver',
      }),
    );
    expect(cancelled.map((h) => `${h.from_status}->${h.to_status}`)).toEqual([
      'null->requested',
      'requested->accepted',
      'accepted->cancelled',
    ]);
    expect(statusHistory(null)).toEqual([]);
  });

  it('replaces a booking history with one delete and one insert', () => {
    const rows = statusHistory(booking({}));
    const s = replaceStatusHistorySql(['9', '8'], rows);
    expect(s[0]?.values).toEqual([['8', '9']]);
    expect(s[1]?.values[0]).toEqual(['9']);
    expect(replaceStatusHistorySql(['8'], [])).toHaveLength(1);
  });

  it('payment copies: upsert by booking, clear on delete or move, one lock pass for all rows', () => {
    const p: PaymentState = {
      id: '5',
      booking_id: '9',
      amount: '10.00',
      platform_fee: '2.00',
      driver_earnings: '8.00',
      method: 'card',
      status: 'paid',
      paid_at: '2026-11-21T04:31:00Z',
    };
    const create = paymentCopySql([{ prev: null, next: p }]);
    expect(create).toHaveLength(1);
    expect(create[0]?.text).toContain('ON CONFLICT (booking_id) DO UPDATE');
    expect(create[0]?.values[0]).toEqual(['9']);
    const remove = paymentCopySql([{ prev: p, next: null }]);
    expect(remove.map((s) => s.text.split('\n')[0])).toEqual([
      'UPDATE mart.fact_booking b',
      'DELETE FROM mart.fact_booking WHERE booking_id = ANY($1::bigint[]) AND NOT booking_present AND payment_id IS NULL',
    ]);
    const moved = paymentCopySql([{ prev: p, next: { ...p, booking_id: '12' } }]);
    expect(moved[0]?.values).toEqual([['9'], ['5']]);
    expect(moved[1]?.values[0]).toEqual(['12']);
    expect(paymentCopySql([{ prev: p, next: { ...p, status: 'refunded' } }])).toHaveLength(1);
    const changes = [{ prev: p, next: { ...p, booking_id: '12' } }];
    expect(lockBookingRowsSql(['30', ...paymentCopyBookingIds(changes)])?.values).toEqual([
      ['9', '12', '30'],
    ]);
    expect(releaseBookingRowsSql(['9'])?.text).toContain('NOT booking_present AND payment_id IS NULL');
    expect(lockBookingRowsSql([])).toBeNull();
  });
});
