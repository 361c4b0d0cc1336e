import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '../src/db/pg.js';
import { generate } from '../tests/e2e/support/generator.js';
import { Scenario, type WorkerProcess } from '../tests/e2e/support/scenario.js';
import { histogramQuantile } from './stack-bench.js';

/**
 * The original system's load steps (1k → 2k → 5k events/s) and a soak, on the real stack: driver
 * position updates written at a steady rate (the dominant event of a ride-hailing source), one
 * worker, and every `sampleSeconds` the consumer lag (events Debezium produced − events the worker
 * committed), the end-to-end latency quantiles of that interval (source commit → both sinks, from
 * the worker's histogram), and the worker's RSS and V8 heap.
 */

export interface Sample {
  /** seconds since the load started */
  at: number;
  writtenPerSecond: number;
  lag: number;
  p50: number;
  p95: number;
  p99: number;
  rssMb: number;
  heapMb: number;
}

export interface StepResult {
  targetRate: number;
  achievedRate: number;
  seconds: number;
  /** over the whole step */
  p50: number;
  p95: number;
  p99: number;
  maxLag: number;
  endLag: number;
  samples: Sample[];
}

type Buckets = { le: number; count: number }[];

async function metricsText(w: WorkerProcess): Promise<string> {
  return (await w.get('/metrics')).body;
}

function latencyBuckets(body: string): Buckets {
  const out: Buckets = [];
  for (const line of body.split('\n')) {
    const m = /^ride_cdc_e2e_latency_seconds_bucket\{le="([^"]+)"\} (\d+)/.exec(line);
    if (m) out.push({ le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), count: Number(m[2]) });
  }
  return out;
}

function gauge(body: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(body);
  return m ? Number(m[1]) : Number.NaN;
}

const minus = (a: Buckets, b: Buckets): Buckets =>
  a.map((x, i) => ({ le: x.le, count: x.count - (b[i]?.count ?? 0) }));

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

class Load {
  private readonly reporting;
  private constructor(
    readonly s: Scenario,
    readonly w: WorkerProcess,
    private readonly drivers: number,
    reporting: ReturnType<typeof createClient>,
  ) {
    this.reporting = reporting;
  }

  static async start(drivers: number): Promise<Load> {
    const s = new Scenario();
    await s.start({
      beforeConnector: () =>
        generate(s.generatorEnv(), [
          '--mode',
          'seed',
          '--volume',
          'small',
          '--drivers',
          String(drivers),
          '--bookings',
          '300',
          '--days',
          '1',
          '--seed',
          '4',
        ]).then(() => undefined),
    });
    const w = await s.startWorker({ LOG_LEVEL: 'error' });
    const reporting = createClient(s.reporting);
    await reporting.connect();
    const load = new Load(s, w, drivers, reporting);
    // Measure the steady state only: the snapshot backlog is drained first.
    while ((await load.lag()) > 0) await sleep(500);
    return load;
  }

  async produced(): Promise<number> {
    const admin = this.s.kafka.admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${this.s.topicPrefix}.public.`));
      let total = 0;
      for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) total += Number(p.high);
      return total;
    } finally {
      await admin.disconnect();
    }
  }

  async lag(): Promise<number> {
    const produced = await this.produced();
    const r = await this.reporting.query<{ n: string }>(
      `SELECT coalesce(sum(next_offset), 0)::text AS n FROM mart.consumer_offsets WHERE topic LIKE $1`,
      [`${this.s.topicPrefix}.public.%`],
    );
    return produced - Number(r.rows[0]!.n);
  }

  /**
   * Writes `rate` events/s for `seconds` in 100 ms ticks (rate/10 distinct rows per tick, cycling
   * through the fleet), sampling every `sampleSeconds`.
   */
  async run(
    rate: number,
    seconds: number,
    sampleSeconds: number,
    onSample: (s: Sample) => void = () => undefined,
  ): Promise<StepResult> {
    const perTick = Math.max(1, Math.round(rate / 10));
    const first = latencyBuckets(await metricsText(this.w));
    let prev = first;
    let prevWritten = 0;
    let prevAt = 0;
    const samples: Sample[] = [];
    const started = performance.now();
    let written = 0;
    let offset = 0;
    let nextSample = sampleSeconds;
    let maxLag = 0;
    const sample = async (at: number) => {
      const body = await metricsText(this.w);
      const now = latencyBuckets(body);
      const d = minus(now, prev);
      const x: Sample = {
        at,
        writtenPerSecond: (written - prevWritten) / Math.max(0.001, at - prevAt),
        lag: await this.lag(),
        p50: histogramQuantile(0.5, d),
        p95: histogramQuantile(0.95, d),
        p99: histogramQuantile(0.99, d),
        rssMb: rssMb(this.w.child.pid!),
        heapMb: gauge(body, 'ride_cdc_process_nodejs_heap_size_used_bytes') / 1024 / 1024,
      };
      maxLag = Math.max(maxLag, x.lag);
      samples.push(x);
      onSample(x);
      prev = now;
      prevWritten = written;
      prevAt = at;
    };
    for (let tick = 0; tick < seconds * 10; tick++) {
      const due = started + tick * 100;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const r = await this.s.sourceDb.query(
        `UPDATE driver_locations SET lat = lat + 0.00001, speed_kmh = 20 + random() * 10, updated_at = clock_timestamp()
          WHERE driver_id IN (SELECT driver_id FROM driver_locations ORDER BY driver_id OFFSET $1 LIMIT $2)`,
        [offset, perTick],
      );
      written += r.rowCount ?? 0;
      offset = (offset + perTick) % Math.max(1, this.drivers - perTick);
      const at = (performance.now() - started) / 1000;
      if (at >= nextSample) {
        await sample(at);
        nextSample += sampleSeconds;
      }
    }
    const elapsed = (performance.now() - started) / 1000;
    const endLag = await this.lag();
    const whole = minus(latencyBuckets(await metricsText(this.w)), first);
    return {
      targetRate: rate,
      achievedRate: written / elapsed,
      seconds: elapsed,
      p50: histogramQuantile(0.5, whole),
      p95: histogramQuantile(0.95, whole),
      p99: histogramQuantile(0.99, whole),
      maxLag: Math.max(maxLag, endLag),
      endLag,
      samples,
    };
  }

  async stop(): Promise<void> {
    await this.w.kill('SIGTERM');
    await this.reporting.end();
    await this.s.stop();
  }
}

const ms = (s: number) => `${Math.round(s * 1000)} ms`;

/** Load steps: each rate for `seconds`, back to back on one worker; lag and latency per step. */
export async function benchSteps(rates: number[], seconds: number): Promise<StepResult[]> {
  const load = await Load.start(5000);
  try {
    const out: StepResult[] = [];
    for (const rate of rates) {
      const r = await load.run(rate, seconds, 10, (x) =>
        console.log(
          `  ${rate}/s t=${x.at.toFixed(0)}s written ${Math.round(x.writtenPerSecond)}/s lag ${x.lag} p50 ${ms(x.p50)} p95 ${ms(x.p95)} p99 ${ms(x.p99)}`,
        ),
      );
      out.push(r);
      console.log(
        `step ${rate} events/s: achieved ${Math.round(r.achievedRate)}/s over ${r.seconds.toFixed(0)} s; lag max ${r.maxLag}, at end ${r.endLag}; ` +
          `p50 ${ms(r.p50)} p95 ${ms(r.p95)} p99 ${ms(r.p99)}`,
      );
    }
    return out;
  } finally {
    await load.stop();
  }
}

export interface SoakResult {
  step: StepResult;
  /** least-squares slope of the worker's RSS over the soak, MB per minute */
  rssSlopeMbPerMin: number;
  heapSlopeMbPerMin: number;
}

export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const num = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return num / den;
}

/** Soak: a steady `rate` for `minutes`, one sample a minute; the RSS slope says whether memory creeps. */
export async function benchSoak(rate: number, minutes: number): Promise<SoakResult> {
  const load = await Load.start(5000);
  try {
    const step = await load.run(rate, minutes * 60, 60, (x) =>
      console.log(
        `  minute ${Math.round(x.at / 60)}: written ${Math.round(x.writtenPerSecond)}/s, lag ${x.lag}, p99 ${ms(x.p99)}, ` +
          `RSS ${x.rssMb.toFixed(0)} MB, heap ${x.heapMb.toFixed(0)} MB`,
      ),
    );
    // The first minute is warm-up (JIT, caches filling); the slope is over the rest.
    const steady = step.samples.slice(1);
    return {
      step,
      rssSlopeMbPerMin: slope(steady.map((x) => ({ x: x.at / 60, y: x.rssMb }))),
      heapSlopeMbPerMin: slope(steady.map((x) => ({ x: x.at / 60, y: x.heapMb }))),
    };
  } finally {
    await load.stop();
  }
}
