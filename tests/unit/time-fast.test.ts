import { describe, expect, it } from 'vitest';
import { isoFromMicros, normaliseZonedTimestamp } from '../../src/decode/logical-types.js';
import { bucketStart, toMicros, type Granularity } from '../../src/project/metrics/time.js';
import { Rng } from '../../src/generator/rng.js';

/**
 * bucketStart and normaliseZonedTimestamp cut plain UTC timestamps ("…T…Z", fields in range) to a
 * prefix instead of going through epoch milliseconds. Each must equal its definition on any string,
 * out-of-range fields and errors included: bucketStart = floor of the epoch microseconds to the
 * unit, rendered by toISOString; a ZonedTimestamp = its instant in UTC with 6 fraction digits.
 */
/** A seeded stream of numbers in [0, 1): the generator's PRNG. */
function prng(seed: number): () => number {
  const r = new Rng(String(seed));
  return () => r.next();
}
const UNIT: Record<Granularity, bigint> = { MINUTE: 60_000_000n, HOUR: 3_600_000_000n };

function byDefinition(iso: string, g: Granularity): string {
  const m = toMicros(iso);
  const q = m / UNIT[g] - (m % UNIT[g] < 0n ? 1n : 0n);
  return new Date(Number((q * UNIT[g]) / 1000n)).toISOString();
}

function zonedByDefinition(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/.exec(s);
  if (!m) throw new RangeError(`not a ZonedTimestamp: ${JSON.stringify(s)}`);
  const frac = (m[3] ?? '').padEnd(6, '0').slice(0, 6);
  const whole = Date.parse(`${m[1]}T${m[2]}${m[4]}`);
  if (Number.isNaN(whole)) throw new RangeError(`not a ZonedTimestamp: ${JSON.stringify(s)}`);
  return isoFromMicros(BigInt(whole) * 1000n + BigInt(frac));
}

const outcome = (f: () => unknown) => {
  try {
    return { value: f() };
  } catch (err) {
    return { error: (err as Error).constructor.name };
  }
};

function timestampish(r: () => number): string {
  const p = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const year = p(['0000', '0400', '1900', '1969', '1970', '2024', '2026', '2100', '9999', '20x6']);
  const month = p(['00', '01', '02', '04', '12', '13']);
  const day = p(['00', '01', '28', '29', '30', '31', '32']);
  const hour = p(['00', '07', '23', '24', '2x']);
  const minute = p(['00', '05', '59', '60']);
  const second = p(['00', '30', '59', '60']);
  const frac = p(['', '.', '.1', '.123', '.123456', '.999999999', '.1234567890', '.12a']);
  const sep = p(['T', 'T', 'T', ' ']);
  const zone = p(['Z', 'Z', 'Z', '', '+07:00', '-05', 'z']);
  return `${year}-${month}-${day}${sep}${hour}:${minute}:${second}${frac}${zone}`;
}

describe('bucketStart fast path equals the definition', () => {
  it('on random timestamps, valid and not', () => {
    const r = prng(42);
    let valid = 0;
    for (let i = 0; i < 30_000; i++) {
      const iso = timestampish(r);
      for (const g of ['MINUTE', 'HOUR'] as const) {
        const expected = outcome(() => byDefinition(iso, g));
        expect(
          outcome(() => bucketStart(iso, g)),
          `${iso} ${g}`,
        ).toEqual(expected);
        if ('value' in expected) valid++;
      }
    }
    expect(valid).toBeGreaterThan(4_000);
  });
});

describe('normaliseZonedTimestamp fast path equals the definition', () => {
  it('on random timestamps, valid and not', () => {
    const r = prng(7);
    let valid = 0;
    for (let i = 0; i < 30_000; i++) {
      const s = timestampish(r);
      const expected = outcome(() => zonedByDefinition(s));
      expect(
        outcome(() => normaliseZonedTimestamp(s)),
        s,
      ).toEqual(expected);
      if ('value' in expected) valid++;
    }
    expect(valid).toBeGreaterThan(800);
  });
});
