import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChangeEvent } from '../../src/decode/change-event.js';
import type { MixMessage } from './mix.js';
import { readMixFile } from './mix-file.js';

/**
 * One measurement of the worker's pure path, in a process of its own (fresh JIT and heap), against
 * the sources of a checkout (`--root`: this repository or a baseline worktree):
 *
 *   node --import tsx bench/pure-path/measure.ts --root DIR --mix FILE [--window N]
 *
 * Per window of N messages (one Kafka fetch), grouped by topic-partition as the worker batches:
 * decode every message with the production decoder, project the batch to Elasticsearch intents,
 * fold it into the mart (rowsTouched → foldMart against the states the previous batches stored, the
 * new states stored back as the mart sink does) and merge the batch's KPI deltas (the sink's write
 * plan). A warm-up pass first (JIT, caches; it also digests every merged delta so two checkouts can
 * be checked to compute the same mart), then one timed pass from empty state. Prints one JSON line.
 */

type MartFoldModule = typeof import('../../src/project/mart-fold.js');
type DeltaModule = typeof import('../../src/project/metrics/delta.js');
type EsModule = typeof import('../../src/project/project-es.js');
type FixturesModule = typeof import('../../src/stack/fixtures/captured-messages.js');
type StateModule = typeof import('../../src/project/metrics/state.js');

export interface Measurement {
  root: string;
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** Wall seconds per stage of the timed pass. */
  stages: { decode: number; elasticsearch: number; mart: number };
  /** sha256 of every merged KPI delta of the pass, in order. */
  digest: string;
  deltas: number;
}

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    mix: { type: 'string' },
    window: { type: 'string', default: '1000' },
  },
});
if (!values.root || !values.mix) throw new Error('usage: measure.ts --root DIR --mix FILE [--window N]');
const root = values.root;
const load = <M>(path: string) => import(pathToFileURL(join(root, path)).href) as Promise<M>;
const fold = await load<MartFoldModule>('src/project/mart-fold.ts');
const { mergeDeltas, deltaKey } = await load<DeltaModule>('src/project/metrics/delta.ts');
const { projectToElasticsearch } = await load<EsModule>('src/project/project-es.ts');
const { fixtureDecoder } = await load<FixturesModule>('src/stack/fixtures/captured-messages.ts');
const { isStateTable } = await load<StateModule>('src/project/metrics/state.ts');

const messages = readMixFile(values.mix);
const window = Number(values.window);

/** Kafka fetches: consecutive windows, each split into one batch per topic-partition. */
function batches(all: readonly MixMessage[]): MixMessage[][] {
  const out: MixMessage[][] = [];
  for (let i = 0; i < all.length; i += window) {
    const byTp = new Map<string, MixMessage[]>();
    for (const m of all.slice(i, i + window)) {
      const tp = `${m.topic}:${m.partition}`;
      const list = byTp.get(tp);
      if (list) list.push(m);
      else byTp.set(tp, [m]);
    }
    out.push(...byTp.values());
  }
  return out;
}
const work = batches(messages);

async function pass(digest: ReturnType<typeof createHash> | null) {
  const decoder = fixtureDecoder();
  const store = new Map<string, Map<string, unknown>>();
  const stages = { decode: 0, elasticsearch: 0, mart: 0 };
  let deltas = 0;
  let intents = 0;
  for (const batch of work) {
    const t0 = performance.now();
    const events: ChangeEvent[] = [];
    for (const m of batch) {
      // As the worker's decode stage: without a promise once schemas are resolved (a checkout
      // that predates decodeNow awaits every message, as its worker did).
      const d = decoder.decodeNow?.(m) ?? (await decoder.decode(m));
      if (d.kind === 'change') events.push(d.event);
    }
    const t1 = performance.now();
    intents += projectToElasticsearch(events).length;
    const t2 = performance.now();
    if (events.length > 0 && isStateTable(events[0]!.table)) {
      const touched = fold.rowsTouched(events);
      const f = fold.foldMart(touched, Object.fromEntries(store) as never);
      if (f.rejected.length > 0) throw new Error(`bench mix rejected: ${f.rejected[0]!.reason}`);
      for (const t of f.states) {
        let rows = store.get(t.table);
        if (!rows) store.set(t.table, (rows = new Map()));
        for (const s of t.upserts) rows.set(s.id, s);
        for (const id of t.deletes) rows.delete(id);
      }
      const merged = mergeDeltas(f.deltas);
      deltas += merged.length;
      if (digest)
        for (const d of merged)
          digest.update(`${deltaKey(d)}=${d.kind === 'add' ? `${d.num}/${d.den}` : d.ref}\n`);
    }
    const t3 = performance.now();
    stages.decode += t1 - t0;
    stages.elasticsearch += t2 - t1;
    stages.mart += t3 - t2;
  }
  if (intents === 0 || deltas === 0) throw new Error('bench pass produced nothing');
  return { stages, deltas };
}

const digest = createHash('sha256');
await pass(digest);
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
const r = await pass(null);
const wallSeconds = (performance.now() - wall0) / 1000;
const cpu = process.cpuUsage(cpu0);
const out: Measurement = {
  root,
  events: messages.length,
  wallSeconds,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  stages: {
    decode: r.stages.decode / 1000,
    elasticsearch: r.stages.elasticsearch / 1000,
    mart: r.stages.mart / 1000,
  },
  digest: digest.digest('hex'),
  deltas: r.deltas,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
