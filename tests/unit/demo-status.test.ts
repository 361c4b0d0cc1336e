import { describe, expect, it } from 'vitest';
import { demoPlan, whereToLook, EXAMPLE_SQL } from '../../src/ops/demo-plan.js';
import { histogramQuantile, parseMetrics, snapshot, statusLine } from '../../src/ops/demo-status.js';

const METRICS = (events: number, buckets: [string, number][], lag = 120) => `# HELP ride_cdc_events_in_total x
# TYPE ride_cdc_events_in_total counter
ride_cdc_events_in_total{topic="ride.public.bookings",op="c"} ${events / 2}
ride_cdc_events_in_total{topic="ride.public.driver_locations",op="u"} ${events / 2}
ride_cdc_consumer_lag{topic="ride.public.bookings",partition="0"} ${lag}
ride_cdc_ready 1
${buckets.map(([le, n]) => `ride_cdc_e2e_latency_seconds_bucket{le="${le}"} ${n}`).join('\n')}
ride_cdc_kpi{metric="match_rate",dimension="all"} 0.8125
ride_cdc_kpi{metric="bookings_requested",dimension="all"} 1234
ride_cdc_kpi{metric="label \\"odd\\"",dimension="zone:1"} 5
`;

describe('demo status line', () => {
  it('parses the text format: labels, escapes, +Inf, comments', () => {
    const m = parseMetrics(
      METRICS(10, [
        ['0.1', 1],
        ['+Inf', 2],
      ]),
    );
    expect(m.get('ride_cdc_events_in_total')).toHaveLength(2);
    expect(m.get('ride_cdc_kpi')![2]!.labels.metric).toBe('label "odd"');
    expect(m.get('ride_cdc_e2e_latency_seconds_bucket')![1]!.labels.le).toBe('+Inf');
    expect(m.has('#')).toBe(false);
  });

  it('histogram quantile of the interval, interpolated like PromQL', () => {
    const before = [
      { le: 0.1, count: 100 },
      { le: 0.5, count: 100 },
      { le: 1, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ];
    // 100 new observations: 50 ≤ 0.1 s, 40 in (0.1, 0.5], 10 in (0.5, 1].
    const after = [
      { le: 0.1, count: 150 },
      { le: 0.5, count: 190 },
      { le: 1, count: 200 },
      { le: Number.POSITIVE_INFINITY, count: 200 },
    ];
    expect(histogramQuantile(0.5, before, after)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.95, before, after)).toBeCloseTo(0.75);
    expect(histogramQuantile(0.7, before, after)).toBeCloseTo(0.3);
    expect(histogramQuantile(0.95, after, after)).toBeUndefined();
    // Everything above the last finite bound: Prometheus answers with that bound.
    const overflow = [...after.slice(0, 3), { le: Number.POSITIVE_INFINITY, count: 300 }];
    expect(histogramQuantile(0.99, after, overflow)).toBe(1);
  });

  it('events/s, lag, p95 and KPIs between two scrapes', () => {
    const a = snapshot(
      METRICS(1000, [
        ['0.1', 0],
        ['0.5', 0],
        ['+Inf', 0],
      ]),
      0,
    );
    const b = snapshot(
      METRICS(
        3000,
        [
          ['0.1', 10],
          ['0.5', 20],
          ['+Inf', 20],
        ],
        40,
      ),
      2000,
    );
    expect(b.kpis).toEqual({ match_rate: 0.8125, bookings_requested: 1234 });
    const line = statusLine(a, b);
    expect(line).toContain('1,000 ev/s');
    expect(line).toContain('lag 40');
    expect(line).toContain('p95 460 ms'); // rank 19 of 20: 0.1 + 0.4 × 9/10
    expect(line).toContain('ready');
    expect(line).toContain('requested 1,234');
    expect(line).toContain('match 81.3%');
    expect(line).toContain('cancel -');
    expect(statusLine(b, b)).toContain('p95 -');
  });
});

describe('demo plan (the original scripts variables)', () => {
  it('defaults: generator on, small, until Ctrl-C', () => {
    const p = demoPlan({}, {});
    expect(p).toMatchObject({ runGenerator: true, volume: 'small', seconds: 0 });
    expect(p.streamArgs).toEqual([
      'generate',
      '--mode',
      'stream',
      '--volume',
      'small',
      '--seconds',
      '0',
      '--seed',
      '43',
    ]);
  });

  it('RUN_GENERATOR, GENERATOR_SECONDS, GENERATOR_VOLUME and GENERATOR_EXTRA_ARGS', () => {
    const p = demoPlan(
      {
        RUN_GENERATOR: 'true',
        GENERATOR_SECONDS: '600',
        GENERATOR_VOLUME: 'large',
        GENERATOR_EXTRA_ARGS: ' --stream-max-inflight 12000  --stream-sleep-min 20 ',
      },
      {},
    );
    expect(p.volume).toBe('large');
    expect(p.seconds).toBe(600);
    expect(p.streamArgs.slice(-4)).toEqual(['--stream-max-inflight', '12000', '--stream-sleep-min', '20']);
    expect(demoPlan({ RUN_GENERATOR: 'false' }, {}).runGenerator).toBe(false);
    expect(demoPlan({ RUN_GENERATOR: 'true' }, { generator: false }).runGenerator).toBe(false);
  });

  it('command-line options win over the variables; bad values are named', () => {
    expect(demoPlan({ GENERATOR_VOLUME: 'large' }, { volume: 'tiny', seconds: '5' })).toMatchObject({
      volume: 'tiny',
      seconds: 5,
    });
    expect(() =>
      demoPlan({ GENERATOR_VOLUME: 'huge', GENERATOR_SECONDS: '-1', RUN_GENERATOR: 'maybe' }, {}),
    ).toThrow(/RUN_GENERATOR[\s\S]*GENERATOR_VOLUME[\s\S]*GENERATOR_SECONDS/);
  });

  it('says where to look: status page, Superset login, Prometheus, three SQL queries', () => {
    const text = whereToLook({
      workerPort: 9464,
      prometheus: 'http://127.0.0.1:9090',
      superset: { url: 'http://127.0.0.1:8088', username: 'admin', password: 'admin' },
      elasticsearch: 'http://localhost:9200',
      reporting: {
        host: 'localhost',
        port: 5433,
        database: 'reporting_db',
        user: 'user',
        password: 'password',
      },
      logs: { worker: '/s/logs/demo-worker.log', generator: '/s/logs/demo-generator.log' },
    });
    expect(text).toContain('http://localhost:9464/');
    expect(text).toContain('http://127.0.0.1:8088   login admin / admin');
    expect(text).toContain('http://127.0.0.1:9090/alerts');
    expect(text).toContain('/s/logs/demo-worker.log');
    expect(EXAMPLE_SQL).toHaveLength(3);
    for (const q of EXAMPLE_SQL) expect(text).toContain(q.sql);
  });
});
