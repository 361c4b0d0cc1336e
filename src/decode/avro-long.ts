import avsc from 'avsc';

/**
 * Avro longs as JS numbers when they fit in 2^53 (offsets, LSNs, epoch micros), BigInt beyond
 * (Debezium's ts_ns). avsc's default long type refuses such values ("potential precision loss"),
 * which would make every Debezium 2.6+ envelope undecodable.
 */
export const SafeLongType = avsc.types.LongType.__with(
  {
    // With noUnpack (below), avsc hands over the varint bytes as they are in the message.
    fromBuffer: (buf: Buffer): number | bigint => {
      // Up to 7 bytes carry 49 bits of zigzag: |value| < 2^48, exact in a double, no BigInt.
      if (buf.length <= 7) {
        let z = 0;
        let scale = 1;
        for (let i = 0; i < buf.length; i++) {
          z += (buf[i]! & 0x7f) * scale;
          scale *= 128;
        }
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      let z = 0n;
      for (let i = buf.length - 1; i >= 0; i--) z = (z << 7n) | BigInt(buf[i]! & 0x7f);
      z = BigInt.asUintN(64, z);
      const n = BigInt.asIntN(64, (z >> 1n) ^ -(z & 1n));
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    },
    toBuffer: (n: number | bigint): Buffer => {
      const v = BigInt.asIntN(64, BigInt(n));
      let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
      const bytes: number[] = [];
      do {
        const low = Number(z & 0x7fn);
        z >>= 7n;
        bytes.push(z === 0n ? low : low | 0x80);
      } while (z !== 0n);
      return Buffer.from(bytes);
    },
    fromJSON: (n: number | string): number | bigint => (typeof n === 'string' ? BigInt(n) : n),
    toJSON: (n: number | bigint): number | string => (typeof n === 'bigint' ? n.toString() : n),
    isValid: (n: unknown): boolean => typeof n === 'bigint' || Number.isInteger(n),
    compare: (a: number | bigint, b: number | bigint): number => (a === b ? 0 : a < b ? -1 : 1),
  },
  // noUnpack: avsc would otherwise copy every long into a fresh 8-byte buffer before fromBuffer.
  true,
);

/**
 * Fresh avsc options for compiling one schema. Fresh because avsc stores named types in
 * `opts.registry` (creating it on the object passed in): shared options would make the second
 * Debezium envelope fail with "duplicate type name ...Source". The long type is swapped in by a
 * typeHook for the same reason.
 */
export function avroOptions(): Record<string, unknown> {
  return {
    typeHook: (schema: unknown) =>
      schema === 'long' || (isObject(schema) && schema.type === 'long' && !schema.logicalType)
        ? SafeLongType
        : undefined,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
