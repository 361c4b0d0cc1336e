import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroOptions } from '../../src/decode/avro-long.js';
import { bigintLongType } from '../../src/stack/fixtures/raw-avro.js';
import { Rng } from '../../src/generator/rng.js';

/**
 * The worker's long type reads the varint bytes itself (numbers up to 2^53, BigInt beyond). It must
 * read and write exactly what avsc's own 64-bit path (the fixtures' BigInt long type) does.
 */
/** A seeded stream of numbers in [0, 1): the generator's PRNG. */
function prng(seed: number): () => number {
  const r = new Rng(String(seed));
  return () => r.next();
}

const schema = { type: 'record', name: 'R', fields: [{ name: 'v', type: 'long' }] } as const;
const worker = avsc.Type.forSchema(schema as never, avroOptions() as Partial<avsc.ForSchemaOptions>);
const reference = avsc.Type.forSchema(schema as never, { registry: { long: bigintLongType } } as never);
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function values(): bigint[] {
  const out: bigint[] = [];
  for (const bits of [0, 1, 7, 14, 31, 32, 48, 49, 53, 54, 56, 62, 63])
    for (const d of [-1n, 0n, 1n]) for (const s of [1n, -1n]) out.push(s * ((1n << BigInt(bits)) + d));
  const r = prng(64);
  for (let i = 0; i < 5000; i++) {
    const hi = BigInt(Math.floor(r() * 2 ** 32));
    const lo = BigInt(Math.floor(r() * 2 ** 32));
    const bits = BigInt(Math.floor(r() * 64));
    out.push(BigInt.asIntN(64, ((hi << 32n) | lo) >> bits));
  }
  return out.filter((v) => v >= -(1n << 63n) && v < 1n << 63n);
}

describe('SafeLongType', () => {
  it('decodes and encodes every int64 like avsc, as a number when safe', () => {
    for (const v of values()) {
      const bytes = reference.toBuffer({ v });
      const expected = v >= -SAFE && v <= SAFE ? Number(v) : v;
      expect((worker.fromBuffer(bytes) as { v: unknown }).v, String(v)).toBe(expected);
      expect(worker.toBuffer({ v: expected }).equals(bytes), String(v)).toBe(true);
    }
  });
});
