import avsc from 'avsc';

/**
 * Avro longs as JS numbers when they fit in 2^53 (offsets, LSNs, epoch micros), BigInt beyond
 * (Debezium's ts_ns). avsc's default long type refuses such values ("potential precision loss"),
 * which would make every Debezium 2.6+ envelope undecodable.
 */
export const SafeLongType = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer): number | bigint => {
    // Common case without a BigInt: the high word alone says whether the value is a safe integer.
    const hi = buf.readInt32LE(4);
    if (hi > -0x200000 && hi < 0x200000) return hi * 0x1_0000_0000 + buf.readUInt32LE(0);
    const n = buf.readBigInt64LE();
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  },
  toBuffer: (n: number | bigint): Buffer => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: number | string): number | bigint => (typeof n === 'string' ? BigInt(n) : n),
  toJSON: (n: number | bigint): number | string => (typeof n === 'bigint' ? n.toString() : n),
  isValid: (n: unknown): boolean => typeof n === 'bigint' || Number.isInteger(n),
  compare: (a: number | bigint, b: number | bigint): number => (a === b ? 0 : a < b ? -1 : 1),
});

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
