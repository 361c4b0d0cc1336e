import avsc from 'avsc';

/**
 * Avro longs as JS numbers when they fit in 2^53 (offsets, LSNs, epoch micros), BigInt beyond
 * (Debezium's ts_ns). avsc's default long type refuses such values ("potential precision loss"),
 * which would make every Debezium 2.6+ envelope undecodable.
 */
export const SafeLongType = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer): number | bigint => {
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
 * avsc options for the registry client. A typeHook rather than `registry: { long }`: the client
 * reuses one options object for every schema, and a shared registry would reject the second
 * schema that defines the same named type (every Debezium envelope defines ...Source).
 */
export const AVRO_OPTIONS = {
  typeHook: (schema: unknown) => (schema === 'long' || (isObject(schema) && schema.type === 'long' && !schema.logicalType) ? SafeLongType : undefined),
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
