import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../../src/decode/change-event.js';
import { TOAST_PLACEHOLDER, normalise } from '../../src/decode/logical-types.js';

/** Field schemas exactly as Debezium 3.4 writes them (tests/fixtures/debezium/type_zoo.emitted.json). */
const named = (type: string, connectName: string) => [
  'null',
  { type, 'connect.version': 1, 'connect.name': connectName },
];
const JSON_T = named('string', 'io.debezium.data.Json');
const MICRO_TS = named('long', 'io.debezium.time.MicroTimestamp');
const MILLI_TS = named('long', 'io.debezium.time.Timestamp');
const ZONED_TS = named('string', 'io.debezium.time.ZonedTimestamp');
const DATE = named('int', 'io.debezium.time.Date');

describe('decoding that is exact (issue 9)', () => {
  it('keeps JSON numbers beyond double precision exactly: the JSON text', () => {
    const text = '{"big": 12345678901234567890, "frac": 0.10000000000000000001}';
    expect(normalise(JSON_T, text)).toBe(text);
    expect(JSON.stringify(JSON.parse(text))).not.toContain('12345678901234567890'); // what parsing would do
  });

  it('gives every int64 one type (a decimal string) whatever its magnitude', () => {
    const long = ['null', 'long'];
    expect(
      [1, 9007199254740991, 9007199254740993n, 9223372036854775807n, -9223372036854775808n].map((v) =>
        normalise(long, v),
      ),
    ).toEqual(['1', '9007199254740991', '9007199254740993', '9223372036854775807', '-9223372036854775808']);
    expect(normalise(['null', 'int'], 7)).toBe(7);
  });

  it("represents 'infinity' and '-infinity' instead of failing", () => {
    // Debezium's sentinels: beyond every representable JS date (PGStatement.DATE_POSITIVE_INFINITY is
    // 9223372036825200000 ms), or the literal strings for timestamptz.
    expect(normalise(MILLI_TS, 9223372036825200000n)).toBe('infinity');
    expect(normalise(MILLI_TS, -9223372036832400000n)).toBe('-infinity');
    expect(normalise(MICRO_TS, 9223372036854775807n)).toBe('infinity');
    expect(normalise(MICRO_TS, -9223372036854775808n)).toBe('-infinity');
    expect(normalise(ZONED_TS, 'infinity')).toBe('infinity');
    expect(normalise(ZONED_TS, '-infinity')).toBe('-infinity');
    expect(normalise(ZONED_TS, '+294247-01-10T04:00:54.775807Z')).toBe('infinity');
    expect(normalise(DATE, 2147483647)).toBe('infinity');
    expect(normalise(DATE, -2147483648)).toBe('-infinity');
    // Ordinary values are untouched.
    expect(normalise(MICRO_TS, 1772352930123456)).toBe('2026-03-01T08:15:30.123456Z');
    expect(normalise(DATE, 20513)).toBe('2026-03-01');
  });

  it("treats only the connector's own placeholder as TOAST-unchanged; Debezium's default text is data", () => {
    expect(normalise(['null', 'string'], TOAST_PLACEHOLDER)).toBe(UNCHANGED);
    expect(normalise(['null', 'string'], '__debezium_unavailable_value')).toBe(
      '__debezium_unavailable_value',
    );
  });
});
