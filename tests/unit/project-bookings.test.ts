import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../../src/decode/change-event.js';
import { projectBookingEvents } from '../../src/project/bookings/project-booking-events.js';
import type { TimeSeriesDoc } from '../../src/project/intents.js';
import { changeEvent } from './fixtures-events.js';

const booking = {
  id: 42,
  booking_uuid: 'b0000000-0000-4000-8000-000000000042',
  passenger_id: 3,
  driver_id: 7,
  status: 'completed',
  vehicle_type: 'car',
  pickup_lat: 10.77,
  pickup_lon: 106.69,
  pickup_zone_id: 1,
  dropoff_lat: 10.8,
  dropoff_lon: 106.71,
  dropoff_zone_id: 2,
  requested_at: '2026-11-21T04:00:00.000000Z',
  accepted_at: '2026-11-21T04:00:20.000000Z',
  arrived_at: null,
  started_at: '2026-11-21T04:05:00.000000Z',
  completed_at: '2026-11-21T04:20:00.000000Z',
  cancelled_at: null,
  cancelled_by: null,
  cancel_reason: null,
  estimated_fare: '52000.00',
  final_fare: '54000.00',
  distance_km: '6.200',
  surge_multiplier: '1.20',
  payment_method: 'card',
  metadata: { big: true },
  updated_at: '2026-11-21T04:20:00.000000Z',
};

describe('booking event projection', () => {
  it('one document per lifecycle timestamp present, even for skipped states', () => {
    const docs = projectBookingEvents(changeEvent('bookings', 'u', booking, { lsn: 9 })) as TimeSeriesDoc[];
    expect(docs.map((d) => d.doc.event)).toEqual(['requested', 'accepted', 'started', 'completed']);
    expect(docs.map((d) => d.id)).toEqual([
      'booking:42:requested',
      'booking:42:accepted',
      'booking:42:started',
      'booking:42:completed',
    ]);
    expect(docs[0]!.doc).toMatchObject({
      pickup_location: { lat: 10.77, lon: 106.69 },
      dropoff_location: { lat: 10.8, lon: 106.71 },
      final_fare: '54000.00',
    });
    expect(docs.every((d) => d.mode === 'upsert' && !('metadata' in d.doc))).toBe(true);
  });
  it('omits TOAST-unchanged columns so the stored value survives the partial update', () => {
    const docs = projectBookingEvents(
      changeEvent('bookings', 'u', { ...booking, cancel_reason: UNCHANGED }),
    ) as TimeSeriesDoc[];
    expect(docs.every((d) => !('cancel_reason' in d.doc))).toBe(true);
  });
  it('a deleted booking deletes its events by booking_id', () => {
    expect(projectBookingEvents(changeEvent('bookings', 'd', null, { before: { id: 42 } }))).toMatchObject([
      { kind: 'delete-by-field', field: 'booking_id', value: '42' },
    ]);
  });
});
