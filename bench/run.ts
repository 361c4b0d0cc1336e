/**
 * `npm run bench [-- --only decode|drain|latency|compare] [--events N] [--rate R] [--seconds S]`
 *
 * decode  — decode + Elasticsearch projection + mart fold and KPI deltas per event on the bench mix
 *           (bench/pure-path/mix.ts; --events messages, default 200000), one process per run,
 *           median of --runs; `--baseline <commit>` measures that commit in the same run (runs
 *           interleaved) and prints the ratio; `--cpu-prof-dir D` adds one profiled run per
 *           checkout and prints its top frames (no services)
 * drain   — a pre-loaded backlog (≥ --events change events) drained into Elasticsearch and the mart
 * latency — end-to-end latency p50/p95/p99 at a steady --rate events/s for --seconds
 * compare — one backlog (≥ --events, default 500000 for compare) drained in sequence by this box's
 *           ceilings, ride-cdc (1 and 2 workers; `--baseline <commit>` adds that commit's worker),
 *           Flink SQL and Debezium's JDBC sink, then latency at each of `--rates` (comma list) for
 *           `--seconds`; `--skip warmup,ceilings,ride-cdc,no-group-commit,baseline,flink,jdbc`; `--cpu-prof-dir D` writes V8
 *           profiles of the one-worker drain; `--volume` (small) is the generator's preset for the seeded
 *           world (large: 20× the bookings). Table, ratios, JSON/markdown/SVG in bench/results/.
 * steps   — load steps --steps (default 1000,2000,5000) events/s, --step-seconds (120) each:
 *           lag and p50/p95/p99 per step (the original system's load test)
 * soak    — --soak-rate (3000) events/s for --soak-minutes (30): RSS, heap, lag, p99 each minute
 *           and the RSS slope
 *
 * steps and soak are never part of the default run (they take 6 and 30 minutes): name them.
 *
 * drain and latency need the native stack (`npm run stack -- up`). Machines are noisy: numbers are
 * medians of several runs where a run is cheap; compare ratios, not absolutes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDecodeProject } from './decode-bench.js';
import { benchDrain, benchLatency } from './stack-bench.js';
import { benchCompare } from './compare/index.js';
import { benchSoak, benchSteps } from './load-bench.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    events: { type: 'string' },
    baseline: { type: 'string' },
    rates: { type: 'string', default: '1000,2500,5000' },
    skip: { type: 'string', default: '' },
    volume: { type: 'string', default: 'small' },
    'cpu-prof-dir': { type: 'string' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '60' },
    runs: { type: 'string', default: '5' },
    steps: { type: 'string', default: '1000,2000,5000' },
    'step-seconds': { type: 'string', default: '120' },
    'soak-rate': { type: 'string', default: '3000' },
    'soak-minutes': { type: 'string', default: '30' },
  },
});
// compare, steps and soak are long (minutes of services): only when asked for by name.
const LONG = ['steps', 'soak', 'compare'];
const want = (name: string) => (values.only ? values.only.split(',').includes(name) : !LONG.includes(name));
const results: Record<string, unknown> = {
  at: new Date().toISOString(),
  cpus: (await import('node:os')).cpus().length,
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (want('decode')) {
  const r = await benchDecodeProject({
    messages: Number(values.events ?? 200_000),
    runs: Number(values.runs),
    baseline: values.baseline,
    cpuProfDir: values['cpu-prof-dir'],
  });
  results.decode = r;
  const mixShare = Object.entries(r.perTable)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${((100 * n) / r.messages).toFixed(1)}%`)
    .join(', ');
  console.log(`decode+project+mart fold: ${fmt(r.messages)} messages of the bench mix (${mixShare})`);
  for (const p of [r.baseline, r.current]) {
    if (!p) continue;
    const name = p === r.baseline ? `baseline ${p.commit?.slice(0, 12)}` : 'this checkout';
    const stage = (k: 'decode' | 'elasticsearch' | 'mart') =>
      // CPU-seconds of a stage ≈ the run's CPU-seconds × the stage's share of the wall time.
      fmt(median(p.runs.map((m) => m.events / ((m.cpuSeconds * m.stages[k]) / m.wallSeconds))));
    console.log(
      `  ${name}: median ${fmt(p.medianEventsPerCpuSecond)} events per CPU-second (one core; wall ${fmt(p.medianEventsPerSecond)} events/s); ` +
        `runs ${p.runs.map((m) => fmt(m.events / m.cpuSeconds)).join(', ')}; ` +
        `per stage (events per CPU-second spent in it): decode ${stage('decode')}, Elasticsearch projection ${stage('elasticsearch')}, mart fold + deltas ${stage('mart')}`,
    );
    for (const f of p.profileTop ?? [])
      console.log(
        `    ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.frame}`,
      );
  }
  if (r.ratio !== undefined)
    console.log(
      `  ratio this checkout / baseline: ${r.ratio.toFixed(2)}×; same KPI deltas: ${r.sameDeltas ? 'yes' : 'NO'}`,
    );
  if (r.sameDeltas === false) process.exitCode = 1;
}
if (want('drain')) {
  const r = await benchDrain(Number(values.events ?? 200_000));
  results.drain = r;
  console.log(
    `drain: ${fmt(r.events)} events in ${r.seconds.toFixed(1)} s = ${fmt(r.eventsPerSecond)} events/s (Elasticsearch + mart, one worker); mart merges ${fmt(r.martRowsPerSecond)} rows/s`,
  );
  console.log(
    `  time per stage (s): ${Object.entries(r.stageSeconds)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ')}`,
  );
  const decode = results.decode as { medianEventsPerSecond: number } | undefined;
  if (decode)
    console.log(
      `ratio drain / decode-only: ${(r.eventsPerSecond / decode.medianEventsPerSecond).toFixed(3)}`,
    );
}
if (want('latency')) {
  const r = await benchLatency(Number(values.rate), Number(values.seconds));
  results.latency = r;
  console.log(
    `latency at ${fmt(r.targetRate)} events/s target (${fmt(r.achievedRate)} achieved, ${r.seconds.toFixed(0)} s): ` +
      `p50 ${(r.p50 * 1000).toFixed(0)} ms, p95 ${(r.p95 * 1000).toFixed(0)} ms, p99 ${(r.p99 * 1000).toFixed(0)} ms (source commit → both sinks)`,
  );
}
if (want('compare')) {
  results.compare = await benchCompare({
    events: Number(values.events ?? 500_000),
    baseline: values.baseline,
    rates: values.rates.split(',').filter(Boolean).map(Number),
    latencySeconds: Number(values.seconds),
    skip: values.skip.split(',').filter(Boolean),
    volume: values.volume,
    cpuProfDir: values['cpu-prof-dir'],
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
  });
}
if (want('steps')) {
  const steps = await benchSteps(values.steps.split(',').map(Number), Number(values['step-seconds']));
  results.steps = steps;
  console.log('load steps (target → achieved events/s: lag max/end, latency p50/p95/p99):');
  for (const r of steps)
    console.log(
      `  ${fmt(r.targetRate)} → ${fmt(r.achievedRate)}: lag ${fmt(r.maxLag)}/${fmt(r.endLag)}, ` +
        `p50 ${(r.p50 * 1000).toFixed(0)} ms, p95 ${(r.p95 * 1000).toFixed(0)} ms, p99 ${(r.p99 * 1000).toFixed(0)} ms`,
    );
}
if (want('soak')) {
  const r = await benchSoak(Number(values['soak-rate']), Number(values['soak-minutes']));
  results.soak = r;
  console.log(
    `soak ${fmt(r.step.targetRate)} events/s target (${fmt(r.step.achievedRate)} achieved) for ${(r.step.seconds / 60).toFixed(1)} min: ` +
      `RSS slope ${r.rssSlopeMbPerMin.toFixed(2)} MB/min, heap slope ${r.heapSlopeMbPerMin.toFixed(2)} MB/min, ` +
      `lag max ${fmt(r.step.maxLag)}, p50 ${(r.step.p50 * 1000).toFixed(0)} ms, p95 ${(r.step.p95 * 1000).toFixed(0)} ms, p99 ${(r.step.p99 * 1000).toFixed(0)} ms`,
  );
}
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-${Date.now()}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`results: ${file}`);
process.exit(process.exitCode ?? 0);
