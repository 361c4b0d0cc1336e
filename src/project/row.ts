import { UNCHANGED, type Row, type Value } from '../decode/change-event.js';

/** Copies the fields present in `row`, dropping TOAST-unchanged ones so they are never written as data. */
export function knownFields(row: Row, names: readonly string[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const n of names) {
    const v = row[n];
    if (v !== undefined && v !== UNCHANGED) out[n] = v;
  }
  return out;
}

export function num(v: Value | undefined): number | null {
  if (v === null || v === undefined || v === UNCHANGED) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export function str(v: Value | undefined): string | null {
  if (v === null || v === undefined || v === UNCHANGED) return null;
  return String(v);
}

/** The primary key as a string id: from `after`, else `before`, else the Kafka key. */
export function idOf(rowOrKey: Row | null | undefined, column: string): string | null {
  return rowOrKey ? str(rowOrKey[column]) : null;
}

/** "2026-11-21T04:32:10.123456Z" → "2026.11.21" (UTC day of a normalised timestamp). */
export function dayOf(iso: string): string {
  return `${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}`;
}

/** Numeric order of bigint ids (as strings): the order mart rows are locked and written in. */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
