import type { ChangeEvent, Row } from '../../decode/change-event.js';
import { FAMILY, type EsIntent, type Origin } from '../intents.js';
import { idOf, knownFields, num, str } from '../row.js';

/** Lifecycle steps and the booking column that records when each happened. */
export const BOOKING_STEPS = [
  ['requested', 'requested_at'],
  ['accepted', 'accepted_at'],
  ['arrived', 'arrived_at'],
  ['started', 'started_at'],
  ['completed', 'completed_at'],
  ['cancelled', 'cancelled_at'],
] as const;

const SHARED_FIELDS = [
  'booking_uuid',
  'passenger_id',
  'driver_id',
  'status',
  'vehicle_type',
  'pickup_zone_id',
  'dropoff_zone_id',
  'estimated_fare',
  'final_fare',
  'distance_km',
  'surge_multiplier',
  'payment_method',
  'cancelled_by',
  'cancel_reason',
] as const;

function point(row: Row, lat: string, lon: string): { lat: number; lon: number } | undefined {
  const la = num(row[lat]);
  const lo = num(row[lon]);
  return la !== null && lo !== null ? { lat: la, lon: lo } : undefined;
}

/**
 * bookings row change → one event document per lifecycle step the row records. The id is
 * (booking, step), so the documents are a function of the current row: a skipped intermediate
 * state still yields its step once its timestamp is known, a replay rewrites the same documents,
 * and a correction (say, the final fare) updates them. Upserts are partial, so TOAST-unchanged
 * columns keep their stored values.
 */
export function projectBookingEvents(e: ChangeEvent): EsIntent[] {
  const origin: Origin = { topic: e.topic, partition: e.partition, offset: e.offset };
  const bookingId = idOf(e.after, 'id') ?? idOf(e.before, 'id') ?? idOf(e.key, 'id');
  if (bookingId === null || e.op === 't') return [];
  if (e.op === 'd')
    return [
      {
        kind: 'delete-by-field',
        family: FAMILY.bookingEvents,
        field: 'booking_id',
        value: bookingId,
        origin,
      },
    ];
  const a = e.after;
  if (!a) return [];
  const shared: Record<string, unknown> = {
    booking_id: Number(bookingId),
    ...knownFields(a, SHARED_FIELDS),
    source_lsn: e.lsn,
    source_ts_ms: e.sourceTsMs,
  };
  const pickup = point(a, 'pickup_lat', 'pickup_lon');
  const dropoff = point(a, 'dropoff_lat', 'dropoff_lon');
  if (pickup) shared.pickup_location = pickup;
  if (dropoff) shared.dropoff_location = dropoff;

  const intents: EsIntent[] = [];
  for (const [step, column] of BOOKING_STEPS) {
    const at = str(a[column]);
    if (at === null) continue;
    intents.push({
      kind: 'timeseries-doc',
      family: FAMILY.bookingEvents,
      timestamp: at,
      id: `booking:${bookingId}:${step}`,
      mode: 'upsert',
      lsn: e.lsn,
      doc: { '@timestamp': at, event: step, ...shared },
      origin,
    });
  }
  return intents;
}
