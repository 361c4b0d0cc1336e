import { describe, expect, it } from 'vitest';
import { mergeGuarded, sameDoc } from '../../src/project/merge-guarded.js';

describe('sameDoc (the guarded merge\'s "changed" test)', () => {
  it('ignores key order and compares values', () => {
    expect(sameDoc({ a: 1, b: 'x' }, { b: 'x', a: 1 })).toBe(true);
    expect(sameDoc({ a: 1, b: 'x' }, { a: 1, b: 'y' })).toBe(false);
    expect(sameDoc({ a: 1 }, { a: '1' })).toBe(false);
  });
  it('compares nested values (geo points) by content', () => {
    expect(sameDoc({ p: { lat: 1, lon: 2 } }, { p: { lat: 1, lon: 2 } })).toBe(true);
    expect(sameDoc({ p: { lat: 1, lon: 2 } }, { p: { lat: 1, lon: 3 } })).toBe(false);
    expect(sameDoc({ p: [1, 2] }, { p: { 0: 1, 1: 2 } })).toBe(false);
  });
  it('treats null and undefined alike, an absent field as different', () => {
    expect(sameDoc({ a: null }, { a: undefined })).toBe(true);
    expect(sameDoc({ a: null }, {})).toBe(false);
    expect(sameDoc({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(sameDoc(null, null)).toBe(true);
    expect(sameDoc(null, {})).toBe(false);
  });
  it('agrees with what a merge reports', () => {
    const cur = { status: 'a', fare: 10, source_lsn: 5 };
    expect(mergeGuarded(cur, [{ doc: { fare: 10, status: 'a' }, lsn: 5 }]).changed).toBe(false);
    expect(mergeGuarded(cur, [{ doc: { fare: 11 }, lsn: 6 }]).changed).toBe(true);
    expect(mergeGuarded(null, [{ doc: { fare: 11 }, lsn: 6 }]).changed).toBe(true);
  });
});
