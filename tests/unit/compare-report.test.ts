/**
 * The compare bench's report (bench/compare/report.ts): which row each ratio divides by which, and
 * that the markdown and SVG carry every row. Pure functions over made-up rows; no timing.
 */
import { describe, expect, it } from 'vitest';
import { peerResult, type PeerResult } from '../../bench/compare/peer-result.js';
import { ratios, renderMarkdown, renderSvg, type CompareReport } from '../../bench/compare/report.js';

const row = (
  name: string,
  kind: PeerResult['kind'],
  eventsPerSecond: number,
  extra = {},
  rss: number | null = null,
) =>
  peerResult({
    name,
    kind,
    events: eventsPerSecond * 10,
    seconds: 10,
    cpuSeconds: 5,
    peakRssBytes: rss,
    equalToTruth: kind === 'ceiling' ? null : true,
    extra,
  });

const rows = [
  row('ceiling: Elasticsearch + PostgreSQL together', 'ceiling', 40_000),
  // Listed first, so the one-worker row is told apart by its settings, not by its position.
  row('ride-cdc, 1 worker, group commit off', 'ride-cdc', 5_000, { workers: 1, groupCommit: false }),
  row('ride-cdc, 1 worker', 'ride-cdc', 10_000, { workers: 1 }, 200 * 2 ** 20),
  row('ride-cdc @906e634, 1 worker', 'ride-cdc', 4_000, { workers: 1, baseline: '906e634' }),
  row('ride-cdc, bookings only', 'ride-cdc', 3_000, { workers: 1, bookingsOnly: true }, 150 * 2 ** 20),
  row('Flink SQL', 'flink', 1_000, {}, 600 * 2 ** 20),
];

describe('compare report', () => {
  it('divides the one-worker drain by every other row, and the bookings-only row by Flink', () => {
    const r = ratios(rows);
    expect(r['ride-cdc (1 worker) / ceiling: Elasticsearch + PostgreSQL together']).toBeCloseTo(0.25);
    expect(r['ride-cdc (1 worker) / ride-cdc @906e634, 1 worker']).toBeCloseTo(2.5);
    expect(r['ride-cdc (1 worker) / ride-cdc, 1 worker, group commit off']).toBeCloseTo(2);
    expect(r['ride-cdc (1 worker) / Flink SQL, both on the bookings topic']).toBeCloseTo(3);
    expect(r['peak RSS: ride-cdc (1 worker, bookings topic) / Flink']).toBeCloseTo(0.25);
    expect(r['peak RSS: ride-cdc (1 worker, whole backlog) / Flink']).toBeCloseTo(1 / 3);
    expect(Object.keys(r)).not.toContain('ride-cdc (1 worker) / ride-cdc, bookings only');
    // The whole backlog over Flink's one topic would compare different inputs.
    expect(Object.keys(r)).not.toContain('ride-cdc (1 worker) / Flink SQL');
  });

  it('has no ratios without a one-worker drain or Flink row', () => {
    expect(ratios(rows.filter((r) => r.kind === 'ceiling'))).toEqual({});
  });

  it('renders every row, ratio and failure into markdown and SVG', () => {
    const rep: CompareReport = {
      at: '2026-12-01T00:00:00Z',
      machine: { cpus: 2, model: 'test cpu', memGiB: 24 },
      command: 'npm run bench -- --only compare',
      events: 100_000,
      rows,
      ratios: ratios(rows),
      decodeProjectPerCore: 20_000,
      latency: [{ targetRate: 1000, achievedRate: 990, seconds: 60, p50: 0.3, p95: 0.5, p99: 0.8 }],
      profiles: [
        {
          run: 'ride-cdc, 1 worker',
          file: 'x.cpuprofile',
          frames: [{ frame: 'decode a.ts:1', selfMs: 12, share: 0.5 }],
        },
      ],
      failures: ['Debezium JDBC sink: task failed'],
    };
    const md = renderMarkdown(rep);
    for (const r of rows) expect(md).toContain(`| ${r.name} |`);
    expect(md).toContain('ride-cdc (1 worker) / ride-cdc @906e634, 1 worker: **2.50**');
    expect(md).toContain('FAILED Debezium JDBC sink: task failed');
    expect(md).toContain('`decode a.ts:1`');
    const svg = renderSvg(rep);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(rows.length);
    expect(svg).toContain('ride-cdc @906e634, 1 worker');
  });
});
