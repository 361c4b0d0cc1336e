import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeyedExecutor, RateLimiter } from '../../src/generator/throttle.js';
import { Scheduler } from '../../src/generator/scheduler.js';

describe('KeyedExecutor', () => {
  it('keeps per-key order while overlapping independent keys, within the concurrency bound', async () => {
    const ex = new KeyedExecutor(3);
    const seen: string[] = [];
    let active = 0;
    let peak = 0;
    for (let i = 0; i < 30; i++) {
      const key = `k${i % 5}`;
      ex.submit([key], async () => {
        active++;
        peak = Math.max(peak, active);
        await sleep(Math.random() * 5);
        seen.push(`${key}:${i}`);
        active--;
      });
    }
    await ex.drain();
    expect(seen).toHaveLength(30);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    for (let k = 0; k < 5; k++) {
      const order = seen.filter((s) => s.startsWith(`k${k}:`)).map((s) => Number(s.split(':')[1]));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });

  it('orders an action with two keys after both predecessors', async () => {
    const ex = new KeyedExecutor(4);
    const seen: string[] = [];
    ex.submit(['a'], async () => {
      await sleep(15);
      seen.push('a');
    });
    ex.submit(['b'], async () => {
      await sleep(5);
      seen.push('b');
    });
    ex.submit(['a', 'b'], async () => {
      seen.push('ab');
    });
    await ex.drain();
    expect(seen).toEqual(['b', 'a', 'ab']);
  });

  it('runs strictly in submission order with concurrency 1', async () => {
    const ex = new KeyedExecutor(1);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      ex.submit([`k${i}`], async () => {
        await sleep(Math.random() * 3);
        seen.push(i);
      });
    }
    await ex.drain();
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('skips the rest after a failure and rethrows it from drain', async () => {
    const ex = new KeyedExecutor(1);
    let ran = 0;
    ex.submit(['a'], async () => {
      throw new Error('boom');
    });
    ex.submit(['b'], async () => {
      ran++;
    });
    await expect(ex.drain()).rejects.toThrow('boom');
    expect(ran).toBe(0);
  });
});

describe('RateLimiter', () => {
  it('is a no-op when unlimited', async () => {
    const r = new RateLimiter(0);
    const t = performance.now();
    for (let i = 0; i < 10_000; i++) await r.take();
    expect(performance.now() - t).toBeLessThan(500);
  });

  it('holds a sustained rate', async () => {
    const r = new RateLimiter(200, 0.05);
    const t = performance.now();
    for (let i = 0; i < 100; i++) await r.take();
    const secs = (performance.now() - t) / 1000;
    // 100 rows at 200/s ≈ 0.5 s (minus the small burst allowance)
    expect(secs).toBeGreaterThan(0.4);
    expect(secs).toBeLessThan(0.9);
  });
});

describe('Scheduler', () => {
  it('pops due tasks in due order, ties in insertion order', () => {
    const s = new Scheduler<string>();
    s.schedule(5, 'e');
    s.schedule(1, 'a');
    s.schedule(3, 'c1');
    s.schedule(3, 'c2');
    s.schedule(9, 'z');
    expect(s.popDue(4)).toEqual(['a', 'c1', 'c2']);
    expect(s.popDue(4)).toEqual([]);
    expect(s.popDue(100)).toEqual(['e', 'z']);
    expect(s.size).toBe(0);
  });
});
