import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { baselineCheckout } from './compare/baseline.js';
import { topFrames } from './compare/profile-top.js';
import { buildMix } from './pure-path/mix.js';
import { writeMixFile } from './pure-path/mix-file.js';
import type { Measurement } from './pure-path/measure.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..');
const MEASURE = join(import.meta.dirname, 'pure-path/measure.ts');

export interface PathResult {
  root: string;
  commit?: string;
  /** Median over the runs of events per CPU-second of the measuring process (= per core). */
  medianEventsPerCpuSecond: number;
  /** Median over the runs of events per wall-clock second. */
  medianEventsPerSecond: number;
  runs: Measurement[];
  profileTop?: { frame: string; selfMs: number; share: number }[];
}

export interface DecodeResult {
  messages: number;
  perTable: Record<string, number>;
  window: number;
  current: PathResult;
  baseline?: PathResult;
  /** current / baseline of the per-core medians. */
  ratio?: number;
  /** Both checkouts merged exactly the same KPI deltas. */
  sameDeltas?: boolean;
  // Kept for readers of older result files (= current.medianEventsPerCpuSecond).
  medianEventsPerSecond: number;
}

export interface DecodeOptions {
  messages?: number;
  runs?: number;
  window?: number;
  /** A commit (or ref) whose pure path is measured in the same run, runs interleaved. */
  baseline?: string;
  /** Writes one V8 CPU profile per checkout there (an extra, untimed run each) and prints the top frames. */
  cpuProfDir?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function measure(
  root: string,
  mix: string,
  window: number,
  nodeFlags: string[] = [],
): Promise<Measurement> {
  const { stdout } = await run(
    process.execPath,
    [
      ...nodeFlags,
      '--max-old-space-size=4096',
      '--import',
      'tsx',
      MEASURE,
      '--root',
      root,
      '--mix',
      mix,
      '--window',
      String(window),
    ],
    { cwd: REPO, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Measurement;
}

/**
 * Decode + Elasticsearch projection + mart fold and KPI deltas per event, on the bench mix
 * (bench/pure-path/mix.ts), one process per run so each run is one core from a fresh start. With a
 * baseline, its runs alternate with this checkout's (B, C, B, C, ...) so both see the same machine
 * load, and the two must merge the same KPI deltas.
 */
export async function benchDecodeProject(opts: DecodeOptions = {}): Promise<DecodeResult> {
  const messages = opts.messages ?? 200_000;
  const runs = opts.runs ?? 5;
  const window = opts.window ?? 1000;
  const mix = buildMix(messages);
  const dir = join(tmpdir(), `ride-cdc-decode-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'mix.bin');
  writeMixFile(file, mix.messages);
  try {
    const base = opts.baseline ? await baselineCheckout(opts.baseline) : undefined;
    const roots = [...(base ? [{ root: base.dir, commit: base.commit }] : []), { root: REPO }];
    const results = new Map<string, Measurement[]>(roots.map((r) => [r.root, []]));
    for (let i = 0; i < runs; i++)
      for (const { root } of roots) results.get(root)!.push(await measure(root, file, window));
    const summarise = (r: { root: string; commit?: string }): PathResult => {
      const ms = results.get(r.root)!;
      return {
        ...r,
        medianEventsPerCpuSecond: median(ms.map((m) => m.events / m.cpuSeconds)),
        medianEventsPerSecond: median(ms.map((m) => m.events / m.wallSeconds)),
        runs: ms,
      };
    };
    const current = summarise(roots.at(-1)!);
    const baseline = base ? summarise(roots[0]!) : undefined;
    if (opts.cpuProfDir) {
      const named: [string, PathResult][] = [['current', current]];
      if (baseline) named.push(['baseline', baseline]);
      for (const [name, r] of named) {
        const out = join(opts.cpuProfDir, `decode-${name}`);
        rmSync(out, { recursive: true, force: true });
        mkdirSync(out, { recursive: true });
        await measure(r.root, file, window, ['--cpu-prof', '--cpu-prof-dir', out]);
        // tsx's loader thread writes a profile too: the main thread's is the largest.
        const prof = readdirSync(out)
          .filter((f) => f.endsWith('.cpuprofile'))
          .sort((a, b) => statSync(join(out, b)).size - statSync(join(out, a)).size)[0];
        if (prof) r.profileTop = topFrames(join(out, prof), 20);
      }
    }
    const digests = new Set([...results.values()].flat().map((m) => m.digest));
    return {
      messages,
      perTable: mix.perTable,
      window,
      current,
      baseline,
      ratio: baseline ? current.medianEventsPerCpuSecond / baseline.medianEventsPerCpuSecond : undefined,
      sameDeltas: baseline ? digests.size === 1 : undefined,
      medianEventsPerSecond: current.medianEventsPerCpuSecond,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
