import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/metrics.js';
import {
  quantileBetween,
  readMetrics,
  snapshotBetween,
  snapshotIndex,
} from '../../src/observe/pipeline-snapshot.js';
import { loadMappings } from '../../src/sink/elasticsearch/setup.js';

const h = (pairs: [number, number][]) => pairs.map(([le, count]) => ({ le, count }));

describe('pipeline snapshots', () => {
  it('quantiles interpolate inside the bucket of the observations between two readings', () => {
    const prev = h([
      [0.1, 10],
      [0.5, 10],
      [1, 10],
      [Infinity, 10],
    ]);
    const cur = h([
      [0.1, 10],
      [0.5, 20],
      [1, 30],
      [Infinity, 30],
    ]);
    // 20 new observations: 10 in (0.1, 0.5], 10 in (0.5, 1]
    expect(quantileBetween(prev, cur, 0.5)).toBeCloseTo(0.5);
    expect(quantileBetween(prev, cur, 0.25)).toBeCloseTo(0.3);
    expect(quantileBetween(prev, cur, 0.75)).toBeCloseTo(0.75);
    expect(quantileBetween(cur, cur, 0.5)).toBeNull();
    // beyond the last finite bound: that bound
    expect(
      quantileBetween(
        [],
        h([
          [1, 0],
          [Infinity, 5],
        ]),
        0.99,
      ),
    ).toBe(1);
  });

  it('rates and latency come from the real metrics registry', async () => {
    const m = createMetrics();
    const t0 = 1_764_582_000_000;
    const a = await readMetrics(m, t0);
    m.eventsIn.inc({ topic: 't', op: 'c' }, 50);
    m.eventsIn.inc({ topic: 't', op: 'u' }, 50);
    m.deadLettered.inc({ topic: 't', reason: 'x' }, 2);
    m.consumerLag.set({ topic: 't', partition: '0' }, 7);
    m.consumerLag.set({ topic: 't', partition: '1' }, 3);
    for (let i = 0; i < 100; i++) m.e2eLatency.observe(0.2);
    m.kpi.set({ metric: 'drivers_online', dimension: 'all' }, 40);
    const b = await readMetrics(m, t0 + 5_000);
    const s = snapshotBetween(a, b, 'w1');
    expect(s).toMatchObject({
      '@timestamp': new Date(t0 + 5_000).toISOString(),
      worker: 'w1',
      interval_s: 5,
      events_in_total: 100,
      events_per_s: 20,
      dead_letters_total: 2,
      dead_letters_in_interval: 2,
      consumer_lag: 10,
      drivers_online: 40,
      drivers_busy: null,
      ready: false,
    });
    expect(s.e2e_latency_p50_s).toBeGreaterThan(0.15);
    expect(s.e2e_latency_p50_s).toBeLessThanOrEqual(0.2);
    const props = (
      loadMappings('').find((x) => x.name === 'pipeline_metrics')!.body.template as {
        mappings: { properties: Record<string, unknown> };
      }
    ).mappings.properties;
    expect(Object.keys(s).sort()).toEqual(Object.keys(props).sort());
  });

  it('go to one index per UTC day', () => {
    expect(snapshotIndex('p_', '2026-12-01T23:59:59.000Z')).toBe('p_pipeline_metrics-2026.12.01');
  });
});
