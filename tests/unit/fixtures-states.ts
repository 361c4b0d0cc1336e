import type { BookingState } from '../../src/project/metrics/state.js';

/** The requested_at (and updated_at) of the default booking. */
export const T0 = '2026-11-21T04:32:10.123456Z';

/** A requested booking's stored state, as the mart reads it back (test helper, pure data). */
export function bookingState(over: Partial<Record<keyof BookingState, string | null>> = {}): BookingState {
  return {
    id: '1',
    booking_uuid: '7b0c6c1e-1111-4222-8333-444455556666',
    passenger_id: '10',
    driver_id: null,
    status: 'requested',
    vehicle_type: 'car',
    pickup_lat: '10.77',
    pickup_lon: '106.7',
    pickup_zone_id: '3',
    dropoff_lat: '10.8',
    dropoff_lon: '106.6',
    dropoff_zone_id: '4',
    requested_at: T0,
    accepted_at: null,
    arrived_at: null,
    started_at: null,
    completed_at: null,
    cancelled_at: null,
    cancelled_by: null,
    cancel_reason: null,
    estimated_fare: '52000.00',
    final_fare: null,
    distance_km: null,
    surge_multiplier: '1.00',
    payment_method: 'card',
    updated_at: T0,
    ...over,
  } as BookingState;
}
