import { describe, expect, it } from 'vitest';
import { formatCanonical, isZero, mulInt, neg, normalize, parseDecimal } from '../../src/shared/decimal.js';
import { Rng } from '../../src/generator/rng.js';

/**
 * normalize, neg, mulInt by ±1 and isZero edit plain decimal strings without BigInt. Each must
 * equal the BigInt definition (parse, scale, canonical rendering) on any string, errors included.
 */
/** A seeded stream of numbers in [0, 1): the generator's PRNG. */
function prng(seed: number): () => number {
  const r = new Rng(String(seed));
  return () => r.next();
}

/** Strings near the plain form: signs, leading/trailing zeros, bare dots, exponents, blanks. */
function decimalish(r: () => number): string {
  const pieces = ['0', '0', '00', '1', '5', '9', '10', '250', '.', '-', '+', ' ', 'x', '00000'];
  // Exponents only as a short suffix: "1e250250" would be a number with 250,250 digits.
  const suffixes = ['', '', '', '', 'e-2', 'E+1', 'e', 'e3'];
  let s = '';
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)];
  return s + suffixes[Math.floor(r() * suffixes.length)];
}

type Outcome = { value: unknown } | { error: string };
const outcome = (f: () => unknown): Outcome => {
  try {
    return { value: f() };
  } catch (err) {
    return { error: (err as Error).constructor.name };
  }
};

describe('decimal string fast paths equal the BigInt definition', () => {
  it('normalize, neg, mulInt ±1 and isZero on random decimal-like strings', () => {
    const r = prng(20261201);
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      const s = decimalish(r);
      const def = (k: bigint) =>
        outcome(() => {
          const v = parseDecimal(s);
          return formatCanonical({ unscaled: v.unscaled * k, scale: v.scale });
        });
      expect(
        outcome(() => normalize(s)),
        JSON.stringify(s),
      ).toEqual(def(1n));
      expect(
        outcome(() => mulInt(s, 1)),
        JSON.stringify(s),
      ).toEqual(def(1n));
      expect(
        outcome(() => mulInt(s, -1)),
        JSON.stringify(s),
      ).toEqual(def(-1n));
      expect(
        outcome(() => neg(s)),
        JSON.stringify(s),
      ).toEqual(def(-1n));
      expect(
        outcome(() => isZero(s)),
        JSON.stringify(s),
      ).toEqual(outcome(() => parseDecimal(s).unscaled === 0n));
      if (/^-?\d+(\.\d+)?$/.test(s)) plain++;
    }
    // Both paths are exercised.
    expect(plain).toBeGreaterThan(2_000);
    expect(plain).toBeLessThan(18_000);
  });
});
