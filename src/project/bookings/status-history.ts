import type { BookingState, PaymentState } from '../metrics/state.js';
import { secondsBetween, toMicros } from '../metrics/time.js';

/**
 * The booking side of the mart beyond KPIs, as data: status history rows and the payment changes
 * whose copy the mart keeps on each booking (the SQL is in src/sink/mart/sql/booking-sql.ts).
 */

/** Status reached → the lifecycle column recording when (booking_status enum values). */
export const STATUS_STEPS = [
  ['requested', 'requested_at'],
  ['accepted', 'accepted_at'],
  ['arrived', 'arrived_at'],
  ['in_progress', 'started_at'],
  ['completed', 'completed_at'],
  ['cancelled', 'cancelled_at'],
] as const;

export interface StatusHistoryRow {
  booking_id: string;
  to_status: string;
  from_status: string | null;
  changed_at: string;
  /** Exact seconds since the previous status (null for the first). */
  seconds_in_previous: string | null;
}

/**
 * One row per status the booking has reached, from its timestamps — a function of the current
 * row, so skipped intermediate events, replays and corrections all give the same history. Steps
 * are ordered by time (ties: lifecycle order); each one's "previous" is the step just before.
 */
export function statusHistory(state: BookingState | null): StatusHistoryRow[] {
  if (state === null) return [];
  const steps = STATUS_STEPS.map(([status, col], i) => ({ status, at: state[col], i }))
    .filter((s): s is { status: (typeof STATUS_STEPS)[number][0]; at: string; i: number } => s.at !== null)
    .map((s) => ({ ...s, micros: toMicros(s.at) }))
    .sort((a, b) => (a.micros < b.micros ? -1 : a.micros > b.micros ? 1 : a.i - b.i));
  return steps.map((s, k) => {
    const prev = k > 0 ? steps[k - 1] : undefined;
    return {
      booking_id: state.id,
      to_status: s.status,
      from_status: prev?.status ?? null,
      changed_at: s.at,
      seconds_in_previous: prev ? secondsBetween(prev.at, s.at) : null,
    };
  });
}

/** A payment row's stored state before and after a batch (null: absent). */
export interface PaymentChange {
  prev: PaymentState | null;
  next: PaymentState | null;
}

/** Booking ids whose payment copy a batch's payment changes write (old and new booking). */
export function paymentCopyBookingIds(changes: readonly PaymentChange[]): string[] {
  const ids: string[] = [];
  for (const c of changes)
    for (const p of [c.prev, c.next]) if (p !== null && p.booking_id !== null) ids.push(p.booking_id);
  return ids;
}
