import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/generator/rng.js';

const draw = (r: Rng, n: number): number[] => Array.from({ length: n }, () => r.next());

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(draw(new Rng('42'), 50)).toEqual(draw(new Rng('42'), 50));
    expect(draw(new Rng('42'), 50)).not.toEqual(draw(new Rng('43'), 50));
  });

  it('pins the sequence, so seeded data cannot silently change between versions', () => {
    const r = new Rng('ride-cdc');
    expect([r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([3851551354, 2758265760, 339723753]);
  });

  it('forks independent streams that do not depend on how much the parent consumed', () => {
    const a = new Rng('s');
    const b = new Rng('s');
    draw(b, 1000);
    expect(draw(a.fork('x'), 20)).toEqual(draw(b.fork('x'), 20));
    expect(draw(a.fork('x'), 20)).not.toEqual(draw(a.fork('y'), 20));
  });

  it('stays within ranges', () => {
    const r = new Rng('ranges');
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      const n = r.int(3, 7);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(7);
    }
  });

  it('hits every integer of a small range, roughly uniformly', () => {
    const r = new Rng('uniform');
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[r.int(0, 3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(9_500);
  });

  it('draws weighted picks in proportion', () => {
    const r = new Rng('weights');
    const items = [
      { k: 'a', w: 1 },
      { k: 'b', w: 3 },
    ];
    let b = 0;
    for (let i = 0; i < 20_000; i++) if (r.weighted(items, (x) => x.w).k === 'b') b++;
    expect(b / 20_000).toBeCloseTo(0.75, 1);
  });

  it('has sensible exponential and poisson means', () => {
    const r = new Rng('means');
    let e = 0;
    let p = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      e += r.exp(12);
      p += r.poisson(3.5);
    }
    expect(e / n).toBeGreaterThan(11);
    expect(e / n).toBeLessThan(13);
    expect(p / n).toBeGreaterThan(3.3);
    expect(p / n).toBeLessThan(3.7);
    expect(r.poisson(0)).toBe(0);
  });

  it('makes reproducible version-4 uuids', () => {
    const u = new Rng('u').uuid();
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Rng('u').uuid()).toBe(u);
  });
});
