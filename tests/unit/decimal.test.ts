import { describe, expect, it } from 'vitest';
import {
  add,
  compare,
  div,
  fromScaled,
  isZero,
  mulInt,
  neg,
  normalize,
  parseDecimal,
  sub,
  sum,
  toFixed,
} from '../../src/shared/decimal.js';

describe('decimal', () => {
  it('parses plain, signed, fractional and exponent forms', () => {
    expect(parseDecimal('45000.50')).toEqual({ unscaled: 4500050n, scale: 2 });
    expect(parseDecimal('-0.125')).toEqual({ unscaled: -125n, scale: 3 });
    expect(parseDecimal('.5')).toEqual({ unscaled: 5n, scale: 1 });
    expect(parseDecimal('1e3')).toEqual({ unscaled: 1000n, scale: 0 });
    expect(parseDecimal('1.5E-7')).toEqual({ unscaled: 15n, scale: 8 });
    expect(parseDecimal(12)).toEqual({ unscaled: 12n, scale: 0 });
    expect(parseDecimal(7n)).toEqual({ unscaled: 7n, scale: 0 });
  });

  it('rejects what is not a decimal', () => {
    for (const bad of ['', '-', '.', 'abc', '1.2.3', '1,5', 'NaN'])
      expect(() => parseDecimal(bad)).toThrow(RangeError);
    expect(() => parseDecimal(Number.NaN)).toThrow(RangeError);
  });

  it('normalises to one canonical string per value', () => {
    expect(normalize('012.500')).toBe('12.5');
    expect(normalize('-0.00')).toBe('0');
    expect(normalize('100')).toBe('100');
    expect(normalize('1e2')).toBe('100');
  });

  it('adds and subtracts exactly across scales, where floats do not', () => {
    expect(add('0.1', '0.2')).toBe('0.3');
    expect(add('1.50', '1')).toBe('2.5');
    expect(sub('45000.50', '45000.5')).toBe('0');
    expect(sub('1', '1.001')).toBe('-0.001');
    expect(neg('-3.25')).toBe('3.25');
    // Beyond 2^53: a float would lose the last digits.
    expect(add('9007199254740993.01', '1.02')).toBe('9007199254740994.03');
  });

  it('sums many values and multiplies by integers', () => {
    expect(sum(['10.10', '20.20', '-0.30'])).toBe('30');
    expect(sum([])).toBe('0');
    expect(mulInt('12.345', -3)).toBe('-37.035');
    expect(mulInt('1', 0)).toBe('0');
    expect(() => mulInt('1', 1.5)).toThrow(RangeError);
  });

  it('compares by value, not by text', () => {
    expect(compare('1.50', '1.5')).toBe(0);
    expect(compare('-2', '1')).toBe(-1);
    expect(compare('1.01', '1.001')).toBe(1);
    expect(isZero('0.000')).toBe(true);
    expect(isZero('0.001')).toBe(false);
  });

  it('renders a fixed scale, rounding half away from zero like PostgreSQL round()', () => {
    expect(toFixed('2.345', 2)).toBe('2.35');
    expect(toFixed('-2.345', 2)).toBe('-2.35');
    expect(toFixed('2.344', 2)).toBe('2.34');
    expect(toFixed('3', 2)).toBe('3.00');
    expect(toFixed('0.5', 0)).toBe('1');
    expect(toFixed('-0.5', 0)).toBe('-1');
  });

  it('divides with one exact rounding, null on zero denominators', () => {
    expect(div('1', '3', 6)).toBe('0.333333');
    expect(div('2', '3', 6)).toBe('0.666667');
    expect(div('-2', '3', 6)).toBe('-0.666667');
    expect(div('10.5', '0.25', 6)).toBe('42.000000');
    expect(div('1', '8', 2)).toBe('0.13');
    expect(div('1', '0.00', 6)).toBeNull();
  });

  it('builds decimals from scaled integers (microseconds → seconds)', () => {
    expect(fromScaled(1_500_000n, 6)).toBe('1.5');
    expect(fromScaled(-1n, 6)).toBe('-0.000001');
    expect(fromScaled(0n, 6)).toBe('0');
  });
});
