import { describe, expect, it, vi } from 'vitest';
import { KpiMirrorQueue, type KpiMirrorQueueOptions } from '../../src/sink/elasticsearch/kpi-mirror-queue.js';
import type { MetricKey } from '../../src/sink/elasticsearch/kpi-mirror-doc.js';
import { TransientError } from '../../src/shared/errors.js';

const key = (metric: string, minute = 0): MetricKey => ({
  granularity: 'MINUTE',
  bucketStart: `2026-11-21T03:${String(minute).padStart(2, '0')}:00.000Z`,
  metric,
  dimension: 'all',
});

/** A mirror that records each call's keys and fails while `down` is set. */
function fakeMirror() {
  const calls: string[][] = [];
  const m = {
    down: false,
    calls,
    async mirror(keys: readonly MetricKey[]) {
      if (m.down) throw new TransientError('elasticsearch down');
      calls.push(keys.map((k) => `${k.metric}@${k.bucketStart}`));
    },
  };
  return m;
}

function harness(opts: Partial<KpiMirrorQueueOptions> = {}) {
  const mirror = fakeMirror();
  const failures: string[] = [];
  let pending = 0;
  const logs: string[] = [];
  const q = new KpiMirrorQueue(
    mirror,
    {
      sinkFailures: { inc: (l: { sink: string }) => failures.push(l.sink) },
      kpiMirrorPending: { set: (n: number) => (pending = n) },
    } as never,
    {
      warn: (_o: unknown, msg: string) => logs.push(msg),
      error: (_o: unknown, msg: string) => logs.push(msg),
    } as never,
    { intervalMs: 20, maxPending: 1000, chunk: 1000, ...opts },
  );
  return { q, mirror, failures, logs, pending: () => pending };
}

describe('KPI mirror queue: committed keys mirrored off the batch path, never dropped', () => {
  it('mirrors the union of the keys of several batches once per interval', async () => {
    const h = harness();
    await h.q.start();
    await h.q.write([key('a'), key('b')]);
    await h.q.write([key('b'), key('c')]);
    expect(h.mirror.calls).toEqual([]); // write() returned before anything was mirrored
    await vi.waitFor(() => expect(h.mirror.calls).toHaveLength(1), { timeout: 5000 });
    expect(h.mirror.calls).toEqual([
      ['a@2026-11-21T03:00:00.000Z', 'b@2026-11-21T03:00:00.000Z', 'c@2026-11-21T03:00:00.000Z'],
    ]);
    expect(h.pending()).toBe(0);
    await h.q.close();
  });

  it('keeps the keys of a failed mirror, counts the failure and mirrors them once it works again', async () => {
    const h = harness();
    await h.q.start();
    h.mirror.down = true;
    await h.q.write([key('a'), key('b')]);
    await vi.waitFor(() => expect(h.failures.length).toBeGreaterThan(0), { timeout: 5000 });
    expect(h.failures.every((s) => s === 'kpi-mirror')).toBe(true);
    expect(h.pending()).toBe(2);
    h.mirror.down = false;
    await h.q.write([key('c')]);
    await vi.waitFor(() => expect(h.pending()).toBe(0), { timeout: 5000 });
    expect(h.mirror.calls.flat().sort()).toEqual([
      'a@2026-11-21T03:00:00.000Z',
      'b@2026-11-21T03:00:00.000Z',
      'c@2026-11-21T03:00:00.000Z',
    ]);
    expect(h.pending()).toBe(0);
    await h.q.close();
  });

  it('at maxPending keys write() mirrors them itself, and throws while the mirror fails (the batch retries)', async () => {
    const h = harness({ intervalMs: 60_000, maxPending: 3 });
    await h.q.start();
    await h.q.write([key('a'), key('b')]);
    expect(h.mirror.calls).toEqual([]);
    h.mirror.down = true;
    await expect(h.q.write([key('c')])).rejects.toThrow(/elasticsearch down/);
    expect(h.pending()).toBe(3);
    h.mirror.down = false;
    await h.q.write([key('c')]);
    expect(h.mirror.calls.flat()).toHaveLength(3);
    await h.q.close();
  });

  it('splits a large flush into chunks and keeps the unwritten rest when a chunk fails', async () => {
    const h = harness({ intervalMs: 60_000, chunk: 2 });
    const keys = [0, 1, 2, 3, 4].map((m) => key('a', m));
    await h.q.write(keys);
    let n = 0;
    const original = h.mirror.mirror;
    h.mirror.mirror = async (ks) => {
      if (++n === 2) throw new TransientError('refused');
      return original(ks);
    };
    await expect(h.q.flush()).rejects.toThrow(/refused/);
    expect(h.mirror.calls.flat()).toHaveLength(2);
    expect(h.pending()).toBe(3);
    await h.q.flush();
    expect(h.mirror.calls.flat()).toHaveLength(5);
  });

  it('close() mirrors what is left, and logs what it could not write', async () => {
    const h = harness({ intervalMs: 60_000 });
    await h.q.start();
    await h.q.write([key('a')]);
    await h.q.close();
    expect(h.mirror.calls).toEqual([['a@2026-11-21T03:00:00.000Z']]);

    const down = harness({ intervalMs: 60_000 });
    down.mirror.down = true;
    await down.q.write([key('b')]);
    await down.q.close();
    expect(down.logs.at(-1)).toMatch(/not written at stop/);
    expect(down.pending()).toBe(1);
  });
});
