/**
 * A/B of whole drains: one backlog, drained in turn by several checkouts (A B A B …), with the CPU
 * seconds every stack process spent during each drain. Needs the native stack (`npm run stack -- up`).
 *
 *   node --import tsx bench/drain-ab.ts --runs new=.,old=/path/to/worktree [--repeat 2]
 *     [--volume small|large] [--events 500000] [--bookings] [--cpu-prof-dir D]
 *     [--setting new:NODE_OPTIONS=--max-semi-space-size=64 …]
 *
 * A checkout is a directory with its own node_modules (a `git worktree` with a symlink to this
 * one's is enough when the dependencies are the same). --bookings drains only the bookings topic
 * with the Flink peer's KPI subset, like the compare bench's bookings row. Prints one line per
 * drain and the median events/s per checkout; the ratio to the first checkout is in the same run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Scenario } from '../src/stack/scenario.js';
import { produceBacklog } from './stack-bench.js';
import { drainWithRideCdc } from './compare/ride-cdc-drain.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: 'this=.' },
    repeat: { type: 'string', default: '2' },
    volume: { type: 'string', default: 'small' },
    events: { type: 'string', default: '500000' },
    bookings: { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
    /** name:KEY=VALUE, repeatable: a worker setting of one checkout's drains (e.g. NODE_OPTIONS). */
    setting: { type: 'string', multiple: true, default: [] },
  },
});

/** The stack's processes by what they run (their command lines), the worker's included. */
const CLASSES: [RegExp, string][] = [
  [/org\.elasticsearch/, 'elasticsearch'],
  [/ConnectDistributed|connect-distributed/, 'connect'],
  [/kafka\.Kafka/, 'kafka'],
  [/apicurio|quarkus/, 'registry'],
  [/postgres/, 'postgres'],
  [/ride-cdc\.js/, 'worker'],
];

/** CPU seconds (user + system) so far of every classified process, by pid. */
function cpuByPid(): Map<string, { cls: string; cpu: number }> {
  const out = new Map<string, { cls: string; cpu: number }>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const cls = CLASSES.find(([re]) => re.test(cmd))?.[1];
      if (!cls) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, { cls, cpu: (Number(f[11]) + Number(f[12])) / 100 });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Polls while a drain runs: processes come and go (PostgreSQL backends, the worker), so each one's
 * last sample counts, less what it had spent when the drain began.
 */
function sampleCpu() {
  const first = cpuByPid();
  const last = new Map(first);
  const poll = () => {
    for (const [pid, v] of cpuByPid()) {
      if (!first.has(pid)) first.set(pid, { cls: v.cls, cpu: 0 });
      last.set(pid, v);
    }
  };
  const timer = setInterval(poll, 500);
  return () => {
    poll();
    clearInterval(timer);
    const byClass = new Map<string, number>();
    for (const [pid, v] of last) byClass.set(v.cls, (byClass.get(v.cls) ?? 0) + v.cpu - first.get(pid)!.cpu);
    return byClass;
  };
}

/**
 * Elasticsearch's own work counters (node totals): documents indexed, deleted, realtime gets
 * (an mget counts each document), searches, refreshes and merges. The difference over a drain,
 * per thousand events, says how many requests of each kind the worker's writes cost the cluster.
 */
async function esWork(): Promise<Record<string, number>> {
  const res = await s.es.nodes.stats({
    metric: 'indices',
    index_metric: 'indexing,get,search,refresh,merge',
  });
  const out: Record<string, number> = {};
  for (const n of Object.values(res.nodes)) {
    const i = n.indices!;
    const add = (k: string, v: number | undefined) => (out[k] = (out[k] ?? 0) + (v ?? 0));
    add('indexed', i.indexing?.index_total);
    add('deleted', i.indexing?.delete_total);
    add('got', i.get?.total);
    add('searched', i.search?.query_total);
    add('refreshed', i.refresh?.total);
    add('merged', i.merges?.total);
  }
  return out;
}

const runs = values.runs.split(',').map((spec) => {
  const [name, dir] = spec.split('=');
  if (!name || !dir) throw new Error(`--runs wants name=dir[,name=dir…], got ${spec}`);
  return { name, repo: resolve(dir) };
});
const settings = new Map<string, Record<string, string>>();
for (const spec of values.setting) {
  const m = /^([^:]+):([A-Z0-9_]+)=(.*)$/.exec(spec);
  if (!m) throw new Error(`--setting wants name:KEY=VALUE, got ${spec}`);
  settings.set(m[1]!, { ...settings.get(m[1]!), [m[2]!]: m[3]! });
}
const rates = new Map<string, number[]>(runs.map((r) => [r.name, []]));
const s = new Scenario();
try {
  const total = await produceBacklog(s, Number(values.events), values.volume);
  const admin = s.kafka.admin();
  await admin.connect();
  const bookings = (await admin.fetchTopicOffsets(`${s.topicPrefix}.public.bookings`)).reduce(
    (n, p) => n + Number(p.high),
    0,
  );
  await admin.disconnect();
  console.log(`drain-ab: backlog of ${total} events (${bookings} on the bookings topic)`);
  for (let rep = 0; rep < Number(values.repeat); rep++)
    for (const { name, repo } of runs) {
      const stop = sampleCpu();
      const esBefore = await esWork();
      const tag = `${name}${rep}`.toLowerCase().replace(/[^a-z0-9]/g, '');
      const r = await drainWithRideCdc(s, values.bookings ? bookings : total, {
        workers: 1,
        tag,
        name,
        repo,
        bookingsOnly: values.bookings,
        settings: settings.get(name),
        cpuProfDir: values['cpu-prof-dir'] && `${values['cpu-prof-dir']}/${name}-${rep}`,
      });
      const cpu = [...stop()].map(([c, v]) => `${c} ${v.toFixed(1)}`).join(', ');
      const esAfter = await esWork();
      const perK = (k: string) => (((esAfter[k] ?? 0) - (esBefore[k] ?? 0)) * 1000) / r.events;
      const es = Object.keys(esAfter)
        .map((k) => `${k} ${perK(k).toFixed(k === 'refreshed' || k === 'merged' ? 2 : 0)}`)
        .join(', ');
      const mart = Object.entries((r.extra?.martWork ?? {}) as Record<string, number>)
        .map(([k, v]) => `${k} ${((v * 1000) / r.events).toFixed(0)}`)
        .join(', ');
      rates.get(name)!.push(r.eventsPerSecond);
      console.log(
        `drain-ab: ${name} #${rep + 1}: ${Math.round(r.eventsPerSecond)} events/s over ${r.seconds.toFixed(1)} s, ` +
          `equal to truth ${r.equalToTruth ? 'yes' : 'NO'}, peak RSS ${Math.round((r.peakRssBytes ?? 0) / 2 ** 20)} MB; ` +
          `CPU-s during the drain and its truth check: ${cpu}; Elasticsearch per 1k events: ${es}; reporting_db per 1k events: ${mart}`,
      );
    }
} finally {
  await s.stop();
}
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const h = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
};
const base = median(rates.get(runs[0]!.name)!);
for (const { name } of runs) {
  const m = median(rates.get(name)!);
  console.log(
    `drain-ab: ${name}: median ${Math.round(m)} events/s (${rates
      .get(name)!
      .map(Math.round)
      .join(', ')}); / ${runs[0]!.name}: ${(m / base).toFixed(2)}`,
  );
}
