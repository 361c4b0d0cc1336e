import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { connectComponent } from './components/connect.js';
import { elasticsearchComponent } from './components/elasticsearch.js';
import { kafkaComponent } from './components/kafka.js';
import { kafkaNodes } from './components/kafka-cluster.js';
import { postgresReporting, postgresSource } from './components/postgres.js';
import { prometheusComponent } from './components/prometheus.js';
import { registryComponent } from './components/registry.js';
import type { Component, ComponentName } from './components/types.js';
import { type StackConfig, loadStackConfig, paths } from './config.js';
import { StackError, msg, portInUse, waitHealthy } from './health.js';
import { withLock } from './lock.js';
import { groupRss, isOurs, readPid, removePid, startDetached, stopGroup } from './processes.js';

export type { ComponentName } from './components/types.js';
export { type StackConfig, loadStackConfig } from './config.js';

/** In dependency order: `up` starts along it, `down` stops against it. */
export function components(cfg: StackConfig): Component[] {
  const nodes = kafkaNodes(cfg);
  const all = [
    postgresSource(cfg),
    postgresReporting(cfg),
    ...nodes.map((n) => kafkaComponent(cfg, n)),
    registryComponent(cfg),
    elasticsearchComponent(cfg),
    connectComponent(cfg),
    prometheusComponent(cfg),
  ];
  // Kafka nodes start together (a node is healthy only once a quorum of them is up); whatever
  // needs Kafka waits for every node, so Connect can create its replicated topics.
  for (const c of all)
    c.dependsOn = c.dependsOn.flatMap((d) => (d === 'kafka' ? nodes.map((n) => n.name) : [d]));
  return all;
}

/** Every component name of this stack (COMPONENT_NAMES plus kafka-2, kafka-3, … of a cluster). */
export function componentNames(cfg: StackConfig): ComponentName[] {
  return components(cfg).map((c) => c.name);
}

/** What a plain `stack up` starts. */
export const CORE_COMPONENT_NAMES: ComponentName[] = [
  'postgres-source',
  'postgres-reporting',
  'kafka',
  'registry',
  'elasticsearch',
  'connect',
];
/** Started only when named (`stack up prometheus`, the demo); stopped by a plain `down`. */
export const OPTIONAL_COMPONENT_NAMES: ComponentName[] = ['prometheus'];
export const COMPONENT_NAMES: ComponentName[] = [...CORE_COMPONENT_NAMES, ...OPTIONAL_COMPONENT_NAMES];

export interface UpResult {
  component: ComponentName;
  /** adopted: healthy on its port but started by someone else (another checkout's stack). */
  action: 'already-up' | 'started' | 'adopted';
  ms: number;
  detail: string;
}

type Log = (line: string) => void;

async function upOne(cfg: StackConfig, c: Component, log: Log, adoptForeign: boolean): Promise<UpResult> {
  const t0 = Date.now();
  const p = paths(cfg);
  const logFile = p.log(c.name);
  const rec = readPid(p.pid(c.name));
  const alive = () => isOurs(readPid(p.pid(c.name)));
  let action: UpResult['action'] = 'already-up';

  if (!isOurs(rec)) {
    if (await portInUse(c.port)) {
      // Not ours. Tests may reuse a healthy stack that another checkout started (CI runs in a
      // fresh clone on a machine where the developer's stack is still up); `stack up` refuses,
      // because its health probes would vouch for a process it cannot manage.
      if (!adoptForeign) {
        throw new StackError(
          c.name,
          `port ${c.port} is already in use by a process this stack (${cfg.dir}) did not start; stop it, or point this stack elsewhere with the *_PORT variables`,
        );
      }
      const detail = await waitHealthy(c.name, c.probe, {
        timeoutMs: 30_000,
        logFile: `${logFile} (not ours: started by another stack)`,
      });
      await c.afterHealthy?.();
      log(
        `${c.name}: adopted the healthy service already on port ${c.port} (${detail}); it will not be stopped`,
      );
      return { component: c.name, action: 'adopted', ms: Date.now() - t0, detail };
    }
    await removePid(p.pid(c.name));
    try {
      await c.prepare();
    } catch (err) {
      throw new StackError(c.name, `prepare failed: ${msg(err)}`);
    }
    const spec = c.startSpec();
    const started = await startDetached(spec);
    log(`${c.name}: started pid ${started.pid} (log ${logFile})`);
    action = 'started';
  }
  const detail = await waitHealthy(c.name, c.probe, { timeoutMs: cfg.startTimeoutMs, logFile, alive });
  if (c.afterHealthy) {
    try {
      await c.afterHealthy();
    } catch (err) {
      throw new StackError(c.name, `post-start setup failed: ${msg(err)}`, logFile);
    }
  }
  const ms = Date.now() - t0;
  log(`${c.name}: healthy on port ${c.port} after ${(ms / 1000).toFixed(1)} s (${detail})`);
  return { component: c.name, action, ms, detail };
}

/**
 * Starts (or adopts, if already running from an earlier `up`) the requested components and their
 * dependencies, in parallel where the dependency graph allows. Idempotent. Throws a StackError
 * naming the first component that failed and its log file; components that did come up stay up.
 */
export async function up(
  opts: { only?: ComponentName[]; cfg?: StackConfig; log?: Log; adoptForeign?: boolean } = {},
): Promise<UpResult[]> {
  const cfg = opts.cfg ?? loadStackConfig();
  const log = opts.log ?? (() => {});
  const all = components(cfg);
  const byName = new Map(all.map((c) => [c.name, c]));
  const wanted = new Set<ComponentName>();
  const want = (n: ComponentName) => {
    if (wanted.has(n)) return;
    wanted.add(n);
    for (const d of byName.get(n)?.dependsOn ?? []) want(d);
  };
  // A plain `up` starts everything but the optional components (prometheus), every Kafka node included.
  const defaults = all.map((c) => c.name).filter((n) => !OPTIONAL_COMPONENT_NAMES.includes(n));
  for (const n of opts.only ?? defaults) {
    if (!byName.has(n))
      throw new Error(`unknown component "${n}"; this stack has ${[...byName.keys()].join(', ')}`);
    want(n);
  }

  const p = paths(cfg);
  for (const d of [p.logs, p.run, p.data, p.dist, p.conf]) await mkdir(d, { recursive: true });
  // One `up` at a time per stack dir: a concurrent one waits, then finds everything up.
  return withLock(resolve(p.run, 'up.lock'), cfg.startTimeoutMs * 3, 'stack up', () =>
    upLocked(cfg, wanted, byName, log, opts.adoptForeign ?? false),
  );
}

async function upLocked(
  cfg: StackConfig,
  wanted: Set<ComponentName>,
  byName: Map<ComponentName, Component>,
  log: Log,
  adoptForeign: boolean,
): Promise<UpResult[]> {
  const running = new Map<ComponentName, Promise<UpResult>>();
  const start = (n: ComponentName): Promise<UpResult> => {
    let pr = running.get(n);
    if (!pr) {
      const c = byName.get(n) as Component;
      pr = Promise.all(c.dependsOn.map(start)).then(() => upOne(cfg, c, log, adoptForeign));
      running.set(n, pr);
    }
    return pr;
  };
  const results = await Promise.allSettled([...wanted].map(start));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) {
    const errs = failed.map((f) => msg(f.reason));
    throw new Error(`stack up failed:\n${errs.join('\n\n')}`);
  }
  return results.map((r) => (r as PromiseFulfilledResult<UpResult>).value);
}

export interface DownResult {
  component: ComponentName;
  result: 'not-running' | 'stopped' | 'killed';
}

/**
 * Stops exactly the processes recorded in our pid files (never by name), dependants first:
 * Connect leaves its group and flushes offsets while Kafka is still there. `signal: 'SIGKILL'`
 * kills at once instead (kill -9, a crash for fault tests).
 */
export async function down(
  opts: { cfg?: StackConfig; log?: Log; only?: ComponentName[]; signal?: NodeJS.Signals } = {},
): Promise<DownResult[]> {
  const cfg = opts.cfg ?? loadStackConfig();
  const log = opts.log ?? (() => {});
  const p = paths(cfg);
  const all = components(cfg).filter((c) => !opts.only || opts.only.includes(c.name));
  const stopOne = async (c: Component): Promise<DownResult> => {
    const rec = readPid(p.pid(c.name));
    const result = rec ? await stopGroup(rec, opts.signal ?? c.stopSignal, cfg.stopTimeoutMs) : 'not-running';
    await removePid(p.pid(c.name));
    if (result !== 'not-running') log(`${c.name}: ${result} (pid ${rec?.pid})`);
    return { component: c.name, result };
  };
  const out: DownResult[] = [];
  // Connect first, then everything else in parallel.
  const first = all.filter((c) => c.name === 'connect');
  const rest = all.filter((c) => c.name !== 'connect');
  for (const c of first) out.push(await stopOne(c));
  out.push(...(await Promise.all(rest.map(stopOne))));
  return out;
}

export interface StatusRow {
  component: ComponentName;
  port: number;
  pid: number | undefined;
  health: string;
  rssBytes: number;
  log: string;
  /** Optional components that are down do not make the stack unhealthy. */
  optional: boolean;
}

export async function status(opts: { cfg?: StackConfig } = {}): Promise<StatusRow[]> {
  const cfg = opts.cfg ?? loadStackConfig();
  const p = paths(cfg);
  return Promise.all(
    components(cfg).map(async (c) => {
      const rec = readPid(p.pid(c.name));
      const ours = isOurs(rec);
      let health: string;
      if (!ours) {
        health = (await portInUse(c.port)) ? 'FOREIGN (port used by another process)' : 'down';
      } else {
        try {
          health = `up: ${await withTimeout(c.probe(), 5000)}`;
        } catch (err) {
          health = `UNHEALTHY: ${msg(err).slice(0, 80)}`;
        }
      }
      return {
        component: c.name,
        port: c.port,
        pid: ours ? rec.pid : undefined,
        health,
        rssBytes: ours ? groupRss(rec.pid) : 0,
        log: p.log(c.name),
        optional: OPTIONAL_COMPONENT_NAMES.includes(c.name),
      };
    }),
  );
}

/** A row that makes `stack status` fail: unhealthy, or a core component that is not up. */
export function rowFails(r: StatusRow): boolean {
  return !r.health.startsWith('up') && !(r.optional && r.health === 'down');
}

/** True when every core component is running from our pid files and healthy (optional ones: if running). */
export async function isUp(cfg: StackConfig = loadStackConfig()): Promise<boolean> {
  const rows = await status({ cfg });
  return !rows.some(rowFails);
}

export function logFile(cfg: StackConfig, component: ComponentName): string {
  const f = paths(cfg).log(component);
  if (!existsSync(f)) throw new Error(`no log yet for ${component} (${f})`);
  return f;
}

function withTimeout<T>(pr: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    pr,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms).unref()),
  ]);
}
