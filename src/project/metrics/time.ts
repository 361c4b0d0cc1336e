import { fromScaled } from '../../shared/decimal.js';
import { isPlainUtc } from '../../shared/iso-time.js';

/**
 * Event-time helpers on the normalised timestamps of ChangeEvent ("2026-11-21T04:32:10.123456Z").
 * Everything is done on BigInt epoch microseconds so durations are exact and bucketing never
 * depends on the host time zone.
 */

export type Granularity = 'MINUTE' | 'HOUR';
export const GRANULARITIES: readonly Granularity[] = ['MINUTE', 'HOUR'];

const UNIT_MICROS: Record<Granularity, bigint> = { MINUTE: 60_000_000n, HOUR: 3_600_000_000n };

const ISO_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** ISO-8601 timestamp (UTC "Z", an explicit offset, or none = UTC) → epoch microseconds. */
export function toMicros(iso: string): bigint {
  const m = ISO_RE.exec(iso.trim());
  if (!m) throw new RangeError(`not an ISO timestamp: ${JSON.stringify(iso)}`);
  let zone = m[4] ?? 'Z';
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO timestamp: ${JSON.stringify(iso)}`);
  const frac = BigInt((m[3] ?? '').padEnd(6, '0').slice(0, 6) || '0');
  return BigInt(ms) * 1000n + frac;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

// A booking's timestamps are bucketed by many KPIs: memoise (bounded, semantics unchanged).
const BUCKET_CACHE = new Map<string, string>();
const BUCKET_CACHE_MAX = 50_000;

/** Start of the UTC bucket holding `iso`, rendered as "YYYY-MM-DDTHH:MM:00.000Z" (one format for all keys). */
export function bucketStart(iso: string, granularity: Granularity): string {
  if (isPlainUtc(iso))
    return granularity === 'MINUTE' ? `${iso.slice(0, 16)}:00.000Z` : `${iso.slice(0, 13)}:00:00.000Z`;
  const key = `${granularity}|${iso}`;
  const hit = BUCKET_CACHE.get(key);
  if (hit !== undefined) return hit;
  const unit = UNIT_MICROS[granularity];
  const start = new Date(Number((floorDiv(toMicros(iso), unit) * unit) / 1000n)).toISOString();
  if (BUCKET_CACHE.size >= BUCKET_CACHE_MAX) BUCKET_CACHE.clear();
  BUCKET_CACHE.set(key, start);
  return start;
}

/** Exact seconds from `from` to `to` as a decimal string with up to 6 fractional digits. */
export function secondsBetween(from: string, to: string): string {
  return fromScaled(toMicros(to) - toMicros(from), 6);
}
