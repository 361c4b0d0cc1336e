import type { PaymentChange, StatusHistoryRow } from '../../../project/bookings/status-history.js';
import type { PaymentState } from '../../../project/metrics/state.js';
import { compareIds } from '../../../project/row.js';
import type { SqlStatement } from './metric-sql.js';

/**
 * SQL for the booking side of the mart beyond KPIs: mart.booking_status_history and the payment
 * copy kept on mart.fact_booking (the rows themselves come from src/project/bookings/status-history.ts).
 * The booking columns of fact_booking are the booking's state (state-sql.ts).
 */

/**
 * Replaces the history of the given bookings (deleted ones: pass their id with no rows).
 * One DELETE + one INSERT, both in booking id order.
 */
export function replaceStatusHistorySql(
  bookingIds: readonly string[],
  rows: readonly StatusHistoryRow[],
): SqlStatement[] {
  if (bookingIds.length === 0) return [];
  const ids = [...new Set(bookingIds)].sort(compareIds);
  const sorted = [...rows].sort(
    (a, b) =>
      compareIds(a.booking_id, b.booking_id) ||
      (a.to_status < b.to_status ? -1 : a.to_status > b.to_status ? 1 : 0),
  );
  const out: SqlStatement[] = [
    { text: 'DELETE FROM mart.booking_status_history WHERE booking_id = ANY($1::bigint[])', values: [ids] },
  ];
  if (sorted.length > 0) {
    out.push({
      text: `INSERT INTO mart.booking_status_history (booking_id, to_status, from_status, changed_at, seconds_in_previous)
SELECT i.booking_id, i.to_status, i.from_status, i.changed_at, i.seconds_in_previous
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::numeric[]) WITH ORDINALITY
  AS i(booking_id, to_status, from_status, changed_at, seconds_in_previous, ord)
ORDER BY i.ord`,
      values: [
        sorted.map((r) => r.booking_id),
        sorted.map((r) => r.to_status),
        sorted.map((r) => r.from_status),
        sorted.map((r) => r.changed_at),
        sorted.map((r) => r.seconds_in_previous),
      ],
    });
  }
  return out;
}

/**
 * Keeps fact_booking's payment columns equal to the booking's current payment. Upserts by
 * booking_id, so the copy lands even when the payment is processed before its booking (the row
 * then waits with booking_present = false); clears a copy whose payment was deleted or moved; and
 * deletes rows left with neither a booking nor a payment.
 */
export function paymentCopySql(changes: readonly PaymentChange[]): SqlStatement[] {
  const clears = changes
    .filter(
      (c) =>
        c.prev !== null &&
        c.prev.booking_id !== null &&
        (c.next === null || c.next.booking_id !== c.prev.booking_id),
    )
    .map((c) => c.prev as PaymentState)
    .sort((a, b) => compareIds(a.booking_id as string, b.booking_id as string));
  // One copy per booking (the last change wins): payments.booking_id is unique in the source.
  const byBooking = new Map<string, PaymentState>();
  for (const c of changes)
    if (c.next !== null && c.next.booking_id !== null) byBooking.set(c.next.booking_id, c.next);
  const sets = [...byBooking.values()].sort((a, b) =>
    compareIds(a.booking_id as string, b.booking_id as string),
  );
  const out: SqlStatement[] = [];
  if (clears.length > 0) {
    out.push({
      text: `UPDATE mart.fact_booking b
SET payment_id = NULL, paid_amount = NULL, platform_fee = NULL, driver_earnings = NULL, paid_method = NULL,
    payment_status = NULL, paid_at = NULL, updated_at = now()
FROM unnest($1::bigint[], $2::bigint[]) AS k(booking_id, payment_id)
WHERE b.booking_id = k.booking_id AND b.payment_id = k.payment_id`,
      values: [clears.map((p) => p.booking_id), clears.map((p) => p.id)],
    });
  }
  if (sets.length > 0) {
    out.push({
      text: `INSERT INTO mart.fact_booking AS b (booking_id, payment_id, paid_amount, platform_fee, driver_earnings, paid_method, payment_status, paid_at)
SELECT i.booking_id, i.payment_id, i.paid_amount, i.platform_fee, i.driver_earnings, i.paid_method, i.payment_status, i.paid_at
FROM unnest($1::bigint[], $2::bigint[], $3::numeric[], $4::numeric[], $5::numeric[], $6::text[], $7::text[], $8::timestamptz[])
  WITH ORDINALITY AS i(booking_id, payment_id, paid_amount, platform_fee, driver_earnings, paid_method, payment_status, paid_at, ord)
ORDER BY i.ord
ON CONFLICT (booking_id) DO UPDATE
SET payment_id = EXCLUDED.payment_id, paid_amount = EXCLUDED.paid_amount, platform_fee = EXCLUDED.platform_fee,
    driver_earnings = EXCLUDED.driver_earnings, paid_method = EXCLUDED.paid_method,
    payment_status = EXCLUDED.payment_status, paid_at = EXCLUDED.paid_at, updated_at = now()`,
      values: [
        sets.map((p) => p.booking_id),
        sets.map((p) => p.id),
        sets.map((p) => p.amount),
        sets.map((p) => p.platform_fee),
        sets.map((p) => p.driver_earnings),
        sets.map((p) => p.method),
        sets.map((p) => p.status),
        sets.map((p) => p.paid_at),
      ],
    });
  }
  const release = releaseBookingRowsSql(clears.map((p) => p.booking_id as string));
  if (release) out.push(release);
  return out;
}

/**
 * First statement of a batch that touches bookings or payments: locks every fact_booking row the
 * batch will write — booking ids of booking events and of payment copies (old and new) — in one
 * sorted pass, creating placeholder rows (booking_present = false) for ids not seen yet. Booking
 * and payment events of one booking can be owned by two workers; without this single ordered
 * pass their transactions can lock the same two rows in opposite orders and deadlock.
 * Pair with releaseBookingRowsSql() at the end of the batch.
 */
export function lockBookingRowsSql(bookingIds: readonly string[]): SqlStatement | null {
  if (bookingIds.length === 0) return null;
  return {
    text: `INSERT INTO mart.fact_booking AS b (booking_id)
SELECT i.booking_id FROM unnest($1::bigint[]) WITH ORDINALITY AS i(booking_id, ord) ORDER BY i.ord
ON CONFLICT (booking_id) DO UPDATE SET updated_at = now()`,
    values: [[...new Set(bookingIds)].sort(compareIds)],
  };
}

/** Deletes the rows of `bookingIds` left with neither a booking nor a payment. */
export function releaseBookingRowsSql(bookingIds: readonly string[]): SqlStatement | null {
  if (bookingIds.length === 0) return null;
  return {
    text: 'DELETE FROM mart.fact_booking WHERE booking_id = ANY($1::bigint[]) AND NOT booking_present AND payment_id IS NULL',
    values: [[...new Set(bookingIds)].sort(compareIds)],
  };
}
