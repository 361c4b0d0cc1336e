import { describe, expect, it } from 'vitest';
import { contributions } from '../../src/project/metrics/contributions.js';
import { projectRow } from '../../src/project/metrics/project-row.js';
import { mergeDeltas } from '../../src/project/metrics/delta.js';
import { SystemicError } from '../../src/shared/errors.js';
import { changeEvent } from './fixtures-events.js';

const booking = (over: Record<string, unknown> = {}) => ({
  id: 9,
  booking_uuid: '00000000-0000-4000-8000-000000000009',
  passenger_id: 1,
  driver_id: 2,
  status: 'completed',
  vehicle_type: 'car',
  pickup_lat: 10.7,
  pickup_lon: 106.7,
  pickup_zone_id: 1,
  dropoff_lat: 10.8,
  dropoff_lon: 106.8,
  dropoff_zone_id: 2,
  requested_at: '2026-11-21T04:00:00.000000Z',
  accepted_at: '2026-11-21T04:00:30.000000Z',
  arrived_at: '2026-11-21T04:03:00.000000Z',
  started_at: '2026-11-21T04:04:00.000000Z',
  completed_at: '2026-11-21T04:20:00.000000Z',
  cancelled_at: null,
  cancelled_by: null,
  cancel_reason: null,
  estimated_fare: '50000.00',
  final_fare: '52000.00',
  distance_km: '6.100',
  surge_multiplier: '1.00',
  payment_method: 'card',
  updated_at: '2026-11-21T04:20:00.000000Z',
  ...over,
});

describe('projectRow', () => {
  it('good events: one delta equal to the final state contributions', () => {
    const r = projectRow('bookings', null, [
      changeEvent('bookings', 'c', booking({ status: 'requested', completed_at: null })),
      changeEvent('bookings', 'u', booking(), { offset: '1' }),
    ]);
    const rejected = r.rejected;
    expect(rejected).toEqual([]);
    expect(mergeDeltas(r.deltas)).toEqual(mergeDeltas(contributions('bookings', r.next as never)));
  });

  it('a bad event is rejected alone; the row keeps its last good state', () => {
    const good = changeEvent('bookings', 'c', booking(), { offset: '5' });
    const bad = changeEvent('bookings', 'u', booking({ completed_at: 'not a time' }), { offset: '6' });
    const r = projectRow('bookings', null, [good, bad]);
    const rejected = r.rejected;
    expect(rejected.map((x) => x.origin.offset)).toEqual(['6']);
    expect(rejected[0]!.reason).toMatch(/^mart: /);
    expect(r.next).not.toBeNull();
    expect((r.next as { completed_at: string }).completed_at).toBe('2026-11-21T04:20:00.000000Z');
    expect(mergeDeltas(r.deltas)).toEqual(mergeDeltas(contributions('bookings', r.next as never)));
  });

  it('a truncate is never a dead letter: it is systemic (the worker stops before it)', () => {
    const good = changeEvent('bookings', 'c', booking(), { offset: '5' });
    const truncate = changeEvent('bookings', 't', null, { offset: '7' });
    expect(() => projectRow('bookings', null, [good, truncate])).toThrow(SystemicError);
  });
});
