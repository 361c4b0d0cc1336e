import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../../src/decode/change-event.js';
import {
  decimalFromBytes,
  isoFromMicros,
  normalise,
  normaliseZonedTimestamp,
  TOAST_PLACEHOLDER,
} from '../../src/decode/logical-types.js';

const dec = (scale: number) => ({
  type: 'bytes',
  scale,
  precision: 12,
  'connect.name': 'org.apache.kafka.connect.data.Decimal',
  logicalType: 'decimal',
  'connect.parameters': { scale: String(scale) },
});
const named = (type: string, name: string) => ({ type, 'connect.name': name });

function twos(n: bigint): Buffer {
  // minimal big-endian two's complement, as Kafka Connect writes BigDecimal.unscaledValue().toByteArray()
  let hex = (n < 0n ? (1n << 64n) + n : n).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (n < 0n) b = Buffer.from(b.subarray(b.findIndex((x, i) => !(x === 0xff && b[i + 1]! & 0x80))));
  else if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return b;
}

describe('Decimal', () => {
  it('is exact for money values, positive and negative, beyond float precision', () => {
    expect(decimalFromBytes(twos(4500050n), 2)).toBe('45000.50');
    expect(decimalFromBytes(twos(-1234n), 2)).toBe('-12.34');
    expect(decimalFromBytes(twos(5n), 3)).toBe('0.005');
    expect(decimalFromBytes(twos(12345678901234567890n), 2)).toBe('123456789012345678.90');
    expect(normalise(['null', dec(2)], twos(99999999n))).toBe('999999.99');
  });
  it('VariableScaleDecimal carries its own scale', () => {
    const schema = {
      type: 'record',
      name: 'VariableScaleDecimal',
      'connect.name': 'io.debezium.data.VariableScaleDecimal',
      fields: [],
    };
    expect(normalise(schema, { scale: 4, value: twos(31415n) })).toBe('3.1415');
  });
});

describe('time types', () => {
  it('ZonedTimestamp becomes UTC with microseconds', () => {
    expect(normaliseZonedTimestamp('2026-11-21T04:32:10.123456Z')).toBe('2026-11-21T04:32:10.123456Z');
    expect(normaliseZonedTimestamp('2026-11-21T11:32:10+07:00')).toBe('2026-11-21T04:32:10.000000Z');
    expect(normaliseZonedTimestamp('2026-11-21T04:32:10.1Z')).toBe('2026-11-21T04:32:10.100000Z');
    expect(() => normaliseZonedTimestamp('yesterday')).toThrow(/ZonedTimestamp/);
  });
  it('MicroTimestamp, Timestamp and NanoTimestamp keep what precision they have', () => {
    expect(normalise(named('long', 'io.debezium.time.MicroTimestamp'), 1_763_699_530_123_456)).toBe(
      '2025-11-21T04:32:10.123456Z',
    );
    expect(normalise(named('long', 'io.debezium.time.Timestamp'), 1_763_699_530_123)).toBe(
      '2025-11-21T04:32:10.123000Z',
    );
    expect(isoFromMicros(-1n)).toBe('1969-12-31T23:59:59.999999Z');
  });
  it('Date, MicroTime and Time', () => {
    expect(normalise(named('int', 'io.debezium.time.Date'), 20_413)).toBe('2025-11-21');
    expect(normalise(named('long', 'io.debezium.time.MicroTime'), 45_130_000_001)).toBe('12:32:10.000001');
    expect(normalise(named('int', 'io.debezium.time.Time'), 45_130_500)).toBe('12:32:10.500000');
  });
});

describe('semantic string types and structures', () => {
  it('Json stays its exact text (checked to be JSON), Uuid and Enum stay strings', () => {
    expect(normalise(named('string', 'io.debezium.data.Json'), '{"a":[1,2],"n":12345678901234567890}')).toBe(
      '{"a":[1,2],"n":12345678901234567890}',
    );
    expect(() => normalise(named('string', 'io.debezium.data.Json'), '{broken')).toThrow();
    // Debezium's default placeholder is never valid JSON: in a JSON column it can only mean TOAST.
    expect(normalise(named('string', 'io.debezium.data.Json'), '__debezium_unavailable_value')).toBe(
      UNCHANGED,
    );
    expect(normalise(['null', 'string'], '__debezium_unavailable_value')).toBe(
      '__debezium_unavailable_value',
    );
    expect(normalise('long', 42)).toBe('42');
    expect(normalise(['null', 'long'], 9223372036854775807n)).toBe('9223372036854775807');
    expect(normalise(named('string', 'io.debezium.data.Uuid'), '3f2b8c1e-0000-4000-8000-000000000001')).toBe(
      '3f2b8c1e-0000-4000-8000-000000000001',
    );
    expect(normalise(named('string', 'io.debezium.data.Enum'), 'completed')).toBe('completed');
  });
  it('Point becomes lat/lon; arrays are normalised element-wise', () => {
    const point = {
      type: 'record',
      name: 'Point',
      'connect.name': 'io.debezium.data.geometry.Point',
      fields: [
        { name: 'x', type: 'double' },
        { name: 'y', type: 'double' },
      ],
    };
    expect(normalise(point, { x: 106.7, y: 10.77, wkb: null, srid: null })).toEqual({
      lon: 106.7,
      lat: 10.77,
    });
    expect(normalise({ type: 'array', items: dec(1) }, [twos(15n), twos(-5n)])).toEqual(['1.5', '-0.5']);
  });
  it('records recurse field by field and nulls stay null', () => {
    const rec = {
      type: 'record',
      name: 'Value',
      fields: [
        { name: 'fare', type: ['null', dec(2)] },
        { name: 'note', type: ['null', 'string'] },
      ],
    };
    expect(normalise(rec, { fare: twos(100n), note: null })).toEqual({ fare: '1.00', note: null });
  });
});

describe('TOAST placeholder', () => {
  it('becomes UNCHANGED whatever the column type', () => {
    expect(normalise(['null', 'string'], TOAST_PLACEHOLDER)).toBe(UNCHANGED);
    expect(normalise(named('string', 'io.debezium.data.Json'), TOAST_PLACEHOLDER)).toBe(UNCHANGED);
    expect(normalise('bytes', Buffer.from(TOAST_PLACEHOLDER))).toBe(UNCHANGED);
    expect(normalise({ type: 'array', items: 'string' }, [TOAST_PLACEHOLDER])).toBe(UNCHANGED);
  });
});
