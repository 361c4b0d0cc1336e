import { describe, expect, it } from 'vitest';
import { chunkOps, classifyItem } from '../../src/sink/elasticsearch/bulk.js';

describe('bulk item classification', () => {
  it('separates expected conflicts, retriable and permanent failures', () => {
    expect(classifyItem(201)).toBe('ok');
    expect(classifyItem(409)).toBe('conflict');
    expect(classifyItem(429)).toBe('retriable');
    expect(classifyItem(503)).toBe('retriable');
    expect(classifyItem(400)).toBe('rejected');
    expect(classifyItem(404)).toBe('not_found');
  });
});

describe('chunkOps', () => {
  const op = (n: number) => ({
    action: { index: { _index: 'i', _id: String(n) } },
    body: { pad: 'x'.repeat(100) },
    tag: n,
  });
  it('bounds requests by count', () => {
    const chunks = chunkOps(
      Array.from({ length: 25 }, (_, i) => op(i)),
      10,
      1e9,
    );
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
  });
  it('bounds requests by bytes, never producing an empty chunk', () => {
    const chunks = chunkOps(
      Array.from({ length: 6 }, (_, i) => op(i)),
      100,
      300,
    );
    expect(chunks.every((c) => c.length >= 1)).toBe(true);
    expect(chunks.flat().map((o) => o.tag)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(chunks.length).toBeGreaterThan(1);
  });
});
