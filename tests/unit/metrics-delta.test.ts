import { describe, expect, it } from 'vitest';
import { type ChangeEvent, type Row, UNCHANGED } from '../../src/decode/change-event.js';
import { contributions } from '../../src/project/metrics/contributions.js';
import { type Delta, delta, mergeDeltas, scaleDelta } from '../../src/project/metrics/delta.js';
import { projectRow } from '../../src/project/metrics/project-row.js';
import {
  type BookingState,
  type DriverState,
  mergeState,
  nextState,
  type PaymentState,
} from '../../src/project/metrics/state.js';
import { bucketStart, secondsBetween } from '../../src/project/metrics/time.js';
import { PoisonMessageError, SystemicError } from '../../src/shared/errors.js';
import { bookingState as booking, T0 } from './fixtures-states.js';

const accepted = (b: BookingState) =>
  booking({ ...b, status: 'accepted', driver_id: '77', accepted_at: '2026-11-21T04:32:55.000001Z' });
const completed = (b: BookingState) =>
  booking({
    ...accepted(b),
    status: 'completed',
    arrived_at: '2026-11-21T04:36:00Z',
    started_at: '2026-11-21T04:37:00.5Z',
    completed_at: '2026-11-21T05:01:30.25Z',
    final_fare: '61500.50',
    distance_km: '8.125',
  });

/** "metric|granularity|dimension" → [num, den] of the additive deltas (bucket ignored when unique). */
function table(deltas: readonly Delta[]): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const d of deltas)
    if (d.kind === 'add')
      out[`${d.metric}|${d.granularity}|${d.bucketStart ?? ''}|${d.dimension}`] = [d.num, d.den];
  return out;
}
function get(
  deltas: readonly Delta[],
  metric: string,
  dimension = 'all',
  granularity = 'MINUTE',
): [string, string] | undefined {
  const hits = deltas.filter(
    (d) =>
      d.kind === 'add' && d.metric === metric && d.dimension === dimension && d.granularity === granularity,
  );
  if (hits.length > 1) throw new Error(`ambiguous ${metric}`);
  const h = hits[0];
  return h && h.kind === 'add' ? [h.num, h.den] : undefined;
}
const members = (deltas: readonly Delta[], metric: string) =>
  deltas
    .filter((d) => d.kind === 'member' && d.metric === metric)
    .map((d) => (d.kind === 'member' ? `${d.granularity}|${d.dimension}|${d.member}|${d.ref}` : ''));

function event(table: string, op: ChangeEvent['op'], after: Row | null, key: Row = { id: 1 }): ChangeEvent {
  return {
    table,
    op,
    key,
    before: op === 'd' ? key : null,
    after,
    sourceTsMs: 0,
    lsn: 1,
    txId: null,
    snapshot: op === 'r',
    topic: `t.public.${table}`,
    partition: 0,
    offset: '0',
  };
}

describe('time', () => {
  it('buckets in UTC whatever the offset of the input', () => {
    expect(bucketStart(T0, 'MINUTE')).toBe('2026-11-21T04:32:00.000Z');
    expect(bucketStart(T0, 'HOUR')).toBe('2026-11-21T04:00:00.000Z');
    expect(bucketStart('2026-11-21T11:32:10.5+07:00', 'HOUR')).toBe('2026-11-21T04:00:00.000Z');
    expect(bucketStart('2026-11-21T04:59:59.999999Z', 'MINUTE')).toBe('2026-11-21T04:59:00.000Z');
  });
  it('measures exact seconds with microseconds', () => {
    expect(secondsBetween('2026-11-21T04:32:10.123456Z', '2026-11-21T04:32:55.000001Z')).toBe('44.876545');
    expect(secondsBetween('2026-11-21T04:00:00Z', '2026-11-20T04:00:00Z')).toBe('-86400');
  });
});

describe('contributions', () => {
  it('a requested booking: counted by requested_at, in its cohort rates, distinct passenger, open request', () => {
    const c = contributions('bookings', booking());
    expect(get(c, 'bookings_requested')).toEqual(['1', '1']);
    expect(get(c, 'bookings_requested', 'zone:3')).toEqual(['1', '1']);
    expect(get(c, 'bookings_requested', 'vehicle:car', 'HOUR')).toEqual(['1', '1']);
    expect(get(c, 'match_rate')).toEqual(['0', '1']);
    expect(get(c, 'cancellation_rate')).toEqual(['0', '1']);
    expect(get(c, 'avg_surge_multiplier')).toEqual(['1.00', '1']);
    expect(get(c, 'active_passengers')).toEqual(['0', '1']);
    expect(members(c, 'active_passengers')).toEqual([
      'MINUTE|all|10|1',
      'MINUTE|zone:3|10|1',
      'HOUR|all|10|1',
      'HOUR|zone:3|10|1',
    ]);
    expect(get(c, 'open_requests', 'all', 'CURRENT')).toEqual(['1', '1']);
    expect(get(c, 'demand_supply_ratio', 'zone:3', 'CURRENT')).toEqual(['1', '0']);
    expect(get(c, 'bookings_completed')).toBeUndefined();
    expect(get(c, 'bookings_cancelled', 'cancelled_by:passenger')).toBeUndefined();
    const req = c.find((x) => x.metric === 'bookings_requested' && x.granularity === 'MINUTE');
    expect(req?.bucketStart).toBe('2026-11-21T04:32:00.000Z');
  });

  it('a completed booking: gmv, exact durations, active driver, each keyed by its own timestamp', () => {
    const c = contributions('bookings', completed(booking()));
    expect(get(c, 'gmv')).toEqual(['61500.50', '1']);
    expect(get(c, 'avg_fare')).toEqual(['61500.50', '1']);
    expect(get(c, 'avg_trip_duration_s')).toEqual([
      secondsBetween('2026-11-21T04:37:00.5Z', '2026-11-21T05:01:30.25Z'),
      '1',
    ]);
    expect(get(c, 'avg_trip_duration_s')?.[0]).toBe('1469.75');
    expect(get(c, 'avg_time_to_accept_s')).toEqual(['44.876545', '1']);
    expect(get(c, 'avg_pickup_wait_s')).toEqual(['184.999999', '1']);
    expect(get(c, 'match_rate')).toEqual(['1', '1']);
    expect(get(c, 'completion_rate')).toEqual(['1', '1']);
    expect(get(c, 'trips_per_active_driver')).toEqual(['1', '0']);
    expect(members(c, 'trips_per_active_driver')).toContain('MINUTE|all|77|1');
    const gmv = c.find((x) => x.metric === 'gmv' && x.granularity === 'HOUR' && x.dimension === 'all');
    expect(gmv?.bucketStart).toBe('2026-11-21T05:00:00.000Z');
    expect(get(c, 'open_requests', 'all', 'CURRENT')).toBeUndefined();
  });

  it('cancellations carry the cancelled_by dimension', () => {
    const c = contributions(
      'bookings',
      booking({
        status: 'cancelled',
        cancelled_at: '2026-11-21T04:40:00Z',
        cancelled_by: 'driver',
        cancel_reason: 'x',
      }),
    );
    expect(get(c, 'bookings_cancelled', 'cancelled_by:driver')).toEqual(['1', '1']);
    expect(get(c, 'cancellation_rate')).toEqual(['1', '1']);
    expect(get(c, 'passenger_cancel_rate')).toEqual(['0', '1']);
  });

  it('payments count only when paid; refunds go to refunded_amount', () => {
    const p: PaymentState = {
      id: '5',
      booking_id: '1',
      amount: '61500.50',
      platform_fee: '12300.10',
      driver_earnings: '49200.40',
      method: 'card',
      status: 'paid',
      paid_at: '2026-11-21T05:01:33Z',
    };
    const paid = contributions('payments', p);
    expect(get(paid, 'platform_revenue', 'method:card')).toEqual(['12300.10', '1']);
    expect(get(paid, 'driver_earnings')).toEqual(['49200.40', '1']);
    const refunded = contributions('payments', { ...p, status: 'refunded' });
    expect(get(refunded, 'platform_revenue')).toBeUndefined();
    expect(get(refunded, 'refunded_amount')).toEqual(['61500.50', '1']);
  });

  it('drivers feed the gauges by current status and new_drivers by created_at', () => {
    const d: DriverState = {
      id: '77',
      vehicle_type: 'bike',
      status: 'busy',
      home_zone_id: '2',
      created_at: '2026-01-02T03:04:05Z',
      updated_at: T0,
    };
    const c = contributions('drivers', d);
    expect(get(c, 'drivers_online', 'zone:2', 'CURRENT')).toEqual(['1', '1']);
    expect(get(c, 'drivers_busy', 'vehicle:bike', 'CURRENT')).toEqual(['1', '1']);
    expect(get(c, 'driver_utilization', 'all', 'CURRENT')).toEqual(['1', '1']);
    expect(get(c, 'drivers_available', 'all', 'CURRENT')).toBeUndefined();
    expect(get(c, 'new_drivers', 'all', 'HOUR')).toEqual(['1', '1']);
    const offline = contributions('drivers', { ...d, status: 'offline' });
    expect(offline.filter((x) => x.granularity === 'CURRENT')).toEqual([]);
    const available = contributions('drivers', { ...d, status: 'available' });
    expect(get(available, 'driver_utilization', 'all', 'CURRENT')).toEqual(['0', '1']);
    expect(get(available, 'demand_supply_ratio', 'zone:2', 'CURRENT')).toEqual(['0', '1']);
  });

  it('an absent row contributes nothing', () => {
    expect(contributions('bookings', null)).toEqual([]);
  });
});

describe('delta', () => {
  it('insert: the delta is the row contribution', () => {
    const b = booking();
    expect(delta('bookings', null, b)).toEqual(mergeDeltas(contributions('bookings', b)));
  });

  it('update requested → accepted moves only what changed', () => {
    const b = booking();
    const d = delta('bookings', b, accepted(b));
    expect(get(d, 'bookings_accepted')).toEqual(['1', '1']);
    expect(get(d, 'match_rate')).toEqual(['1', '0']);
    expect(get(d, 'driver_cancel_rate')).toEqual(['0', '1']);
    expect(get(d, 'open_requests', 'zone:3', 'CURRENT')).toEqual(['-1', '-1']);
    expect(get(d, 'trips_in_progress', 'all', 'CURRENT')).toEqual(['1', '1']);
    expect(get(d, 'demand_supply_ratio', 'zone:3', 'CURRENT')).toEqual(['-1', '0']);
    expect(get(d, 'bookings_requested')).toBeUndefined();
    expect(members(d, 'active_passengers')).toEqual([]);
  });

  it('skipped intermediate states: requested → completed in one event equals the step-by-step sum', () => {
    const b0 = booking();
    const b1 = accepted(b0);
    const b2 = booking({ ...b1, status: 'arrived', arrived_at: '2026-11-21T04:36:00Z' });
    const b3 = booking({ ...b2, status: 'in_progress', started_at: '2026-11-21T04:37:00.5Z' });
    const b4 = completed(b0);
    const direct = delta('bookings', b0, b4);
    const stepwise = mergeDeltas(
      [b0, b1, b2, b3].flatMap((s, i) => delta('bookings', s, [b1, b2, b3, b4][i] as BookingState)),
    );
    expect(stepwise).toEqual(direct);
    expect(get(direct, 'bookings_completed')).toEqual(['1', '1']);
  });

  it('correction after completion: fare changes move gmv by the difference only', () => {
    const done = completed(booking());
    const fixed = booking({ ...done, final_fare: '60000.00' });
    const d = delta('bookings', done, fixed);
    expect(get(d, 'gmv')).toEqual(['-1500.5', '0']);
    expect(get(d, 'avg_fare', 'zone:3', 'HOUR')).toEqual(['-1500.5', '0']);
    expect(get(d, 'bookings_completed')).toBeUndefined();
    expect(d.every((x) => x.metric === 'gmv' || x.metric === 'avg_fare')).toBe(true);
  });

  it('delete subtracts exactly what the stored state contributed', () => {
    const done = completed(booking());
    const d = delta('bookings', done, null);
    expect(d).toEqual(mergeDeltas(contributions('bookings', done).map((c) => scaleDelta(c, -1))));
    expect(get(d, 'gmv')).toEqual(['-61500.5', '-1']);
    expect(members(d, 'active_drivers')).toContain('MINUTE|all|77|-1');
  });

  it('duplicate event (same image again) gives an empty delta', () => {
    const done = completed(booking());
    expect(delta('bookings', done, done)).toEqual([]);
    const e = event('bookings', 'u', { ...done, id: 1 } as unknown as Row);
    const again = projectRow('bookings', done, [e, e]);
    expect(again.deltas).toEqual([]);
  });

  it('snapshot read (op r) is projected like an insert', () => {
    const b = booking();
    const viaSnapshot = projectRow('bookings', null, [event('bookings', 'r', b as unknown as Row)]);
    const viaInsert = projectRow('bookings', null, [event('bookings', 'c', b as unknown as Row)]);
    expect(viaSnapshot).toEqual(viaInsert);
    expect(viaSnapshot.deltas).toEqual(delta('bookings', null, b));
  });

  it('UNCHANGED (TOAST) columns keep the stored value and change no KPI', () => {
    const prev = booking({
      status: 'cancelled',
      cancelled_at: '2026-11-21T04:40:00Z',
      cancelled_by: 'passenger',
      cancel_reason: 'a long reason',
    });
    const after: Row = { ...prev, cancel_reason: UNCHANGED, updated_at: '2026-11-21T04:41:00Z' };
    const next = mergeState('bookings', prev, after);
    expect(next.cancel_reason).toBe('a long reason');
    expect(next.updated_at).toBe('2026-11-21T04:41:00Z');
    expect(delta('bookings', prev, after)).toEqual([]);
    // An UNCHANGED column with no stored state is unknown (null), never the placeholder.
    expect(mergeState('bookings', null, after).cancel_reason).toBeNull();
  });

  it('decoder values (numbers for ints and doubles) give the same state as strings read back from the mart', () => {
    const b = booking();
    const fromEvent = mergeState('bookings', null, {
      ...b,
      id: 1,
      passenger_id: 10,
      pickup_zone_id: 3,
      pickup_lat: 10.77,
    } as unknown as Row);
    expect(fromEvent).toEqual(b);
  });

  it('late event: a corrected requested_at moves the booking to its earlier bucket', () => {
    const b = booking();
    const moved = booking({ ...b, requested_at: '2026-11-21T02:59:59.999999Z' });
    const d = delta('bookings', b, moved);
    const t = table(d);
    expect(t['bookings_requested|MINUTE|2026-11-21T04:32:00.000Z|all']).toEqual(['-1', '-1']);
    expect(t['bookings_requested|MINUTE|2026-11-21T02:59:00.000Z|all']).toEqual(['1', '1']);
    expect(t['bookings_requested|HOUR|2026-11-21T04:00:00.000Z|zone:3']).toEqual(['-1', '-1']);
    expect(t['bookings_requested|HOUR|2026-11-21T02:00:00.000Z|zone:3']).toEqual(['1', '1']);
    expect(members(d, 'active_passengers')).toHaveLength(8);
  });

  it('distinct members: two bookings of one passenger reference it twice; deleting one keeps it counted', () => {
    const b1 = booking({ id: '1' });
    const b2 = booking({ id: '2', requested_at: '2026-11-21T04:32:40Z' });
    const refs = mergeDeltas([...delta('bookings', null, b1), ...delta('bookings', null, b2)]).filter(
      (d) =>
        d.kind === 'member' &&
        d.metric === 'active_passengers' &&
        d.granularity === 'MINUTE' &&
        d.dimension === 'all',
    );
    expect(refs).toEqual([expect.objectContaining({ member: '10', ref: 2 })]);
    const afterDelete = mergeDeltas([...refs, ...delta('bookings', b2, null)]).filter(
      (d) =>
        d.kind === 'member' &&
        d.metric === 'active_passengers' &&
        d.granularity === 'MINUTE' &&
        d.dimension === 'all',
    );
    expect(afterDelete).toEqual([expect.objectContaining({ member: '10', ref: 1 })]);
  });

  it('mergeDeltas sums by key, drops zeros and sorts deterministically whatever the input order', () => {
    const a = contributions('bookings', completed(booking()));
    const b = contributions('bookings', booking({ id: '2', passenger_id: '11' }));
    const forward = mergeDeltas([...a, ...b]);
    const backward = mergeDeltas([...b, ...a].reverse());
    expect(backward).toEqual(forward);
    expect(mergeDeltas([...a, ...a.map((c) => scaleDelta(c, -1))])).toEqual([]);
    expect(get(forward, 'bookings_requested')).toEqual(['2', '2']);
  });

  it('state transitions by op', () => {
    const b = booking();
    expect(nextState('bookings', b, event('bookings', 'd', null))).toBeNull();
    expect(() => nextState('bookings', b, event('bookings', 't', null))).toThrow(SystemicError);
    expect(() => nextState('bookings', b, event('bookings', 'u', null))).toThrow(PoisonMessageError);
    expect(() => mergeState('bookings', null, { status: 'requested' })).toThrow(PoisonMessageError);
  });

  it('an unreadable timestamp or decimal is a rejected event, not a crash loop', () => {
    const bad = event('bookings', 'u', { ...booking(), id: 1, requested_at: 'yesterday' } as unknown as Row);
    const r1 = projectRow('bookings', booking(), [bad]);
    expect(r1.rejected).toHaveLength(1);
    expect(r1.next).toEqual(booking());
    expect(r1.deltas).toEqual([]);
    const badFare = event('bookings', 'u', {
      ...completed(booking()),
      id: 1,
      final_fare: '12,50',
    } as unknown as Row);
    const r2 = projectRow('bookings', booking(), [badFare]);
    expect(r2.rejected).toHaveLength(1);
    expect(r2.deltas).toEqual([]);
  });

  it('several events of one row in a batch fold to one net delta', () => {
    const b0 = booking();
    const b1 = accepted(b0);
    const b2 = completed(b0);
    const ev = (s: BookingState) => event('bookings', 'u', s as unknown as Row);
    const folded = projectRow('bookings', b0, [ev(b1), ev(b2), ev(b2)]);
    expect(folded.next).toEqual(b2);
    expect(folded.deltas).toEqual(delta('bookings', b0, b2));
    const deleted = projectRow('bookings', b0, [ev(b1), event('bookings', 'd', null)]);
    expect(deleted.next).toBeNull();
    expect(deleted.deltas).toEqual(delta('bookings', b0, null));
  });
});

describe('an event time of ±infinity', () => {
  it('lies in no bucket: no flow contribution, and no error (the truth SQL filters isfinite)', () => {
    for (const at of ['infinity', '-infinity']) {
      const c = contributions('bookings', booking({ requested_at: at, updated_at: at }));
      expect(c.filter((x) => x.granularity !== 'CURRENT')).toEqual([]);
    }
    const finite = contributions('bookings', booking());
    expect(finite.some((x) => x.granularity === 'MINUTE' && x.metric === 'bookings_requested')).toBe(true);
  });
});
