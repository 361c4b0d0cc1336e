import { describe, expect, it } from 'vitest';
import { bookingIdsToLock, foldMart, rowsTouched } from '../../src/project/mart-fold.js';
import { contributions } from '../../src/project/metrics/contributions.js';
import { mergeDeltas, scaleDelta } from '../../src/project/metrics/delta.js';
import type { PaymentState } from '../../src/project/metrics/state.js';
import { changeEvent } from './fixtures-events.js';

const payment = (over: Partial<PaymentState> = {}): PaymentState => ({
  id: '7',
  booking_id: '70',
  amount: '52000.00',
  platform_fee: '10400.00',
  driver_earnings: '41600.00',
  method: 'card',
  status: 'completed',
  paid_at: '2026-11-21T04:21:00.000000Z',
  ...over,
});

const driverRow = (id: number, status = 'online') => ({
  id,
  vehicle_type: 'car',
  status,
  home_zone_id: 1,
  created_at: '2026-11-21T04:00:00.000000Z',
  updated_at: '2026-11-21T04:00:00.000000Z',
});

describe('foldMart: (stored states, events) → (next states, deltas, history, rejections)', () => {
  it('a payment moved to another booking: new state, KPI delta, both bookings locked', () => {
    const prev = payment();
    const moved = { ...prev, booking_id: '71' };
    const events = [changeEvent('payments', 'u', moved as never, { offset: '3' })];
    const touched = rowsTouched(events);
    expect(bookingIdsToLock(touched, new Map([['7', prev]]))).toEqual(['70', '71']);
    const fold = foldMart(touched, { payments: new Map([['7', prev]]) });
    expect(fold.rejected).toEqual([]);
    expect(fold.states).toEqual([{ table: 'payments', upserts: [moved], deletes: [] }]);
    expect(fold.payments).toEqual([{ prev, next: moved }]);
    expect(mergeDeltas(fold.deltas)).toEqual(
      mergeDeltas([
        ...contributions('payments', moved),
        ...contributions('payments', prev).map((c) => scaleDelta(c, -1)),
      ]),
    );
  });

  it('a delete removes the stored state and subtracts its contributions', () => {
    const prev = payment();
    const fold = foldMart(rowsTouched([changeEvent('payments', 'd', null, { before: prev as never })]), {
      payments: new Map([['7', prev]]),
    });
    expect(fold.states).toEqual([{ table: 'payments', upserts: [], deletes: ['7'] }]);
    expect(mergeDeltas(fold.deltas)).toEqual(
      mergeDeltas(contributions('payments', prev).map((c) => scaleDelta(c, -1))),
    );
  });

  it('rows are grouped per table and id in lock order; tables the mart does not keep are ignored', () => {
    const events = [
      changeEvent('drivers', 'c', driverRow(2), { offset: '0' }),
      changeEvent('driver_locations', 'c', { driver_id: 2 } as never, { offset: '1' }),
      changeEvent('drivers', 'u', driverRow(2, 'offline'), { offset: '2' }),
      changeEvent('drivers', 'c', driverRow(1), { offset: '3' }),
    ];
    const fold = foldMart(rowsTouched(events), {});
    expect(fold.states).toHaveLength(1);
    expect(fold.states[0]!.upserts.map((s) => [s.id, (s as { status: string }).status])).toEqual([
      ['1', 'online'],
      ['2', 'offline'],
    ]);
  });

  it('a KPI subset keeps only its deltas; states and status history are folded as always', () => {
    const booking = { id: 9, status: 'requested', requested_at: '2026-11-21T04:00:00.000000Z' };
    const touched = rowsTouched([changeEvent('bookings', 'c', booking as never, { offset: '0' })]);
    const all = foldMart(touched, {});
    const some = foldMart(touched, {}, new Set(['bookings_requested']));
    expect(new Set(all.deltas.map((d) => d.metric)).size).toBeGreaterThan(1);
    expect(some.deltas).toEqual(all.deltas.filter((d) => d.metric === 'bookings_requested'));
    expect(some.deltas.length).toBeGreaterThan(0);
    expect(some.states).toEqual(all.states);
    expect(some.statusHistory).toEqual(all.statusHistory);
  });

  it('bookings get their status history; events without a row id are rejected alone', () => {
    const booking = {
      id: 9,
      status: 'accepted',
      requested_at: '2026-11-21T04:00:00.000000Z',
      accepted_at: '2026-11-21T04:00:30.000000Z',
    };
    const events = [
      changeEvent('bookings', 'c', booking as never, { offset: '0' }),
      changeEvent('bookings', 'd', null, { offset: '1' }),
    ];
    const fold = foldMart(rowsTouched(events), {});
    expect(fold.rejected).toEqual([
      {
        origin: { topic: 'ride.public.bookings', partition: 0, offset: '1' },
        reason: 'mart: event without a row id',
      },
    ]);
    expect(fold.statusHistory.bookingIds).toEqual(['9']);
    expect(fold.statusHistory.rows.map((r) => [r.to_status, r.from_status, r.seconds_in_previous])).toEqual([
      ['requested', null, null],
      ['accepted', 'requested', '30'],
    ]);
  });
});
