import { describe, expect, it, vi } from 'vitest';
import { Health } from '../../src/observe/health.js';
import { createMetrics } from '../../src/observe/metrics.js';

describe('readiness', () => {
  it('needs an assignment and no failing stage', async () => {
    const m = createMetrics();
    const h = new Health(m);
    expect(h.isReady()).toBe(false);
    h.setJoined(true);
    expect(h.isReady()).toBe(true);
    h.setFailing('elasticsearch', true);
    expect(h.status()).toMatchObject({ ready: false, failing: ['elasticsearch'] });
    expect((await m.registry.getSingleMetric('ride_cdc_ready')!.get()).values[0]!.value).toBe(0);
    h.setFailing('elasticsearch', false);
    expect(h.isReady()).toBe(true);
  });

  it('names why a stage fails (a truncate names its table and the command), until it recovers', () => {
    const h = new Health(createMetrics());
    h.setJoined(true);
    h.setFailing(
      'project',
      true,
      'ride.public.ratings/0: table ratings was truncated ... ride-cdc mart rebuild --table ratings',
    );
    expect(h.status()).toMatchObject({
      ready: false,
      failing: ['project'],
      causes: { project: expect.stringContaining('mart rebuild --table ratings') },
    });
    h.setFailing('project', false);
    expect(h.status()).toMatchObject({ ready: true, failing: [], causes: {} });
  });

  it('a stage stalled on two partitions stays failing until both recover', () => {
    const h = new Health(createMetrics());
    h.setJoined(true);
    h.setFailing('kafka', true, 'ride.public.drivers/0: position ahead of log', 'ride.public.drivers/0');
    h.setFailing('kafka', true, 'ride.public.drivers/2: position ahead of log', 'ride.public.drivers/2');
    h.setFailing('kafka', false, undefined, 'ride.public.drivers/0');
    expect(h.status()).toMatchObject({ ready: false, failing: ['kafka'] });
    h.setFailing('kafka', false, undefined, 'ride.public.drivers/2');
    expect(h.status()).toMatchObject({ ready: true, failing: [], causes: {} });
  });

  it('is not ready when stuck: a backlog and no progress for the configured time', () => {
    vi.useFakeTimers();
    try {
      const h = new Health(createMetrics(), 60_000);
      h.setJoined(true);
      h.setLag('t:0', 10);
      vi.advanceTimersByTime(59_000);
      expect(h.isReady()).toBe(true);
      vi.advanceTimersByTime(2_000);
      expect(h.status()).toMatchObject({ ready: false, stuck: true, lag: 10 });
      h.progress();
      expect(h.isReady()).toBe(true);
      vi.advanceTimersByTime(120_000);
      h.resetLag(); // a rebalance: lag of partitions we no longer own does not count
      expect(h.isReady()).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
