import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type StackConfig, paths } from '../stack/config.js';
import { componentNames } from '../stack/index.js';
import { groupRss, isOurs, readPid } from '../stack/processes.js';
import { listenerOf } from './port-owner.js';
import type { CheckRow } from './table.js';
import { compareVersions, javaMajor, mavenVersion } from './versions.js';

const run = promisify(execFile);

export const REQUIRED = { node: 20, java: 17, maven: '3.6.0' } as const;

export interface PreflightLimits {
  minDiskGb: number;
  minMemoryGb: number;
  metricsPort: number;
}

/** Every port the native stack and the worker listen on, with the variable that moves it. */
export function stackPorts(cfg: StackConfig, metricsPort: number) {
  return [
    { port: cfg.ports.sourcePg, env: 'SOURCE_PGPORT', owner: 'postgres-source' },
    { port: cfg.ports.reportingPg, env: 'REPORTING_PGPORT', owner: 'postgres-reporting' },
    { port: cfg.ports.kafka, env: 'KAFKA_PORT', owner: 'kafka' },
    { port: cfg.ports.kafkaController, env: 'KAFKA_CONTROLLER_PORT', owner: 'kafka' },
    { port: cfg.ports.registry, env: 'REGISTRY_PORT', owner: 'registry' },
    { port: cfg.ports.registry + 1, env: 'REGISTRY_PORT (+1, management)', owner: 'registry' },
    { port: cfg.ports.connect, env: 'CONNECT_PORT', owner: 'connect' },
    { port: cfg.ports.es, env: 'ES_PORT', owner: 'elasticsearch' },
    { port: cfg.ports.es + 100, env: 'ES_PORT (+100, transport)', owner: 'elasticsearch' },
    { port: cfg.ports.prometheus, env: 'PROMETHEUS_PORT', owner: 'prometheus' },
    { port: metricsPort, env: 'METRICS_PORT', owner: 'worker' },
  ] as const;
}

async function output(cmd: string, args: string[]): Promise<string | Error> {
  try {
    const r = await run(cmd, args, { timeout: 20_000, encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`;
  } catch (err) {
    return err as Error;
  }
}

function nodeCheck(): CheckRow {
  const v = process.versions.node;
  const ok = Number(v.split('.')[0]) >= REQUIRED.node;
  return {
    component: 'node',
    status: ok ? 'ok' : 'fail',
    detail: ok
      ? `v${v}`
      : `v${v} is too old: Node ${REQUIRED.node} or newer is required (engines in package.json)`,
  };
}

async function javaCheck(cfg: StackConfig): Promise<CheckRow> {
  const bin = resolve(cfg.javaHome, 'bin', 'java');
  const out = await output(bin, ['-version']);
  if (out instanceof Error) {
    return {
      component: 'java',
      status: 'fail',
      detail: `${bin} does not run (JAVA_HOME=${cfg.javaHome}): install Java ${REQUIRED.java} (apt-get install openjdk-17-jdk-headless) or point JAVA_HOME at one`,
    };
  }
  const major = javaMajor(out);
  const ok = major !== undefined && major >= REQUIRED.java;
  return {
    component: 'java',
    status: ok ? 'ok' : 'fail',
    detail: ok
      ? `${major} (${bin})`
      : `${bin} is Java ${major ?? '?'}: Kafka, Connect and Elasticsearch need Java ${REQUIRED.java}+ (set JAVA_HOME)`,
  };
}

async function mavenCheck(): Promise<CheckRow> {
  const out = await output('mvn', ['-v']);
  if (out instanceof Error) {
    return {
      component: 'maven',
      status: 'fail',
      detail:
        'mvn not found on PATH: the stack resolves Kafka, Connect, Debezium, the registry and Elasticsearch with it (apt-get install maven)',
    };
  }
  const v = mavenVersion(out);
  const ok = v !== undefined && compareVersions(v, REQUIRED.maven) >= 0;
  return {
    component: 'maven',
    status: ok ? 'ok' : 'fail',
    detail: ok ? v : `Maven ${v ?? '?'} found; ${REQUIRED.maven} or newer is required`,
  };
}

function portChecks(cfg: StackConfig, metricsPort: number): CheckRow[] {
  const p = paths(cfg);
  const ourPids = new Set<number>();
  for (const c of componentNames(cfg)) {
    const rec = readPid(p.pid(c));
    if (isOurs(rec)) ourPids.add(rec.pid);
  }
  return stackPorts(cfg, metricsPort).map(({ port, env, owner }) => {
    const holder = listenerOf(port);
    const component = `port ${port}`;
    if (holder === undefined) return { component, status: 'ok', detail: `free (${env}, ${owner})` };
    if (holder !== 'unknown' && (ourPids.has(holder.pid) || ourPids.has(pgidOf(holder.pid))))
      return { component, status: 'ok', detail: `used by this stack's ${owner} (pid ${holder.pid})` };
    if (owner === 'worker')
      return {
        component,
        status: 'warn',
        detail: `taken (${holderText(holder)}): a worker already runs, or set METRICS_PORT for a new one`,
      };
    return {
      component,
      status: 'fail',
      detail: `taken by ${holderText(holder)}, not by this stack (${cfg.dir}); stop it, or set ${env.split(' ')[0]} to a free port`,
    };
  });
}

function holderText(h: { pid: number; command: string } | 'unknown'): string {
  return h === 'unknown' ? 'a process we cannot see' : `pid ${h.pid} (${h.command})`;
}

function pgidOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return -1;
  }
}

function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

function diskCheck(cfg: StackConfig, minGb: number): CheckRow {
  const at = existingAncestor(cfg.dir);
  const s = statfsSync(at);
  const freeGb = (s.bavail * s.bsize) / 1024 ** 3;
  return {
    component: 'disk',
    status: freeGb >= minGb ? 'ok' : 'fail',
    detail:
      freeGb >= minGb
        ? `${freeGb.toFixed(1)} GiB free at ${at}`
        : `${freeGb.toFixed(1)} GiB free at ${at}; the stack needs ${minGb} GiB (artifacts ~0.4 GB, data, logs): free space or set STACK_DIR elsewhere`,
  };
}

function memoryCheck(cfg: StackConfig, minGb: number): CheckRow {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  const availGb = (kb('MemAvailable') * 1024) / 1024 ** 3;
  // Components already running from this stack dir hold part of what the stack needs.
  const p = paths(cfg);
  let usedGb = 0;
  for (const c of componentNames(cfg)) {
    const rec = readPid(p.pid(c));
    if (isOurs(rec)) usedGb += groupRss(rec.pid) / 1024 ** 3;
  }
  const needGb = Math.max(0, minGb - usedGb);
  return {
    component: 'memory',
    status: availGb >= needGb ? 'ok' : 'fail',
    detail:
      availGb >= needGb
        ? `${availGb.toFixed(1)} GiB available (stack already holds ${usedGb.toFixed(1)} GiB; needs ${minGb} GiB in all)`
        : `${availGb.toFixed(1)} GiB available, ${needGb.toFixed(1)} GiB more needed: stop other services or lower STACK_*_HEAP`,
  };
}

async function dockerCheck(): Promise<CheckRow> {
  const out = await output('docker', ['--version']);
  return out instanceof Error
    ? {
        component: 'docker',
        status: 'warn',
        detail: 'not installed: fine for the native stack; compose/ (Kibana, Grafana, 3 brokers) needs it',
      }
    : { component: 'docker', status: 'ok', detail: out.trim() };
}

function prometheusCheck(cfg: StackConfig): CheckRow {
  const ok = existsSync(cfg.prometheus.binary);
  return {
    component: 'prometheus',
    status: ok ? 'ok' : 'warn',
    detail: ok
      ? cfg.prometheus.binary
      : `${cfg.prometheus.binary} missing: optional; apt-get install prometheus for stack up prometheus and the demo's alerts`,
  };
}

/** Every check, in the order a new user would fix them. */
export async function preflight(cfg: StackConfig, limits: PreflightLimits): Promise<CheckRow[]> {
  const [java, maven, docker] = await Promise.all([javaCheck(cfg), mavenCheck(), dockerCheck()]);
  return [
    nodeCheck(),
    java,
    maven,
    ...portChecks(cfg, limits.metricsPort),
    diskCheck(cfg, limits.minDiskGb),
    memoryCheck(cfg, limits.minMemoryGb),
    docker,
    prometheusCheck(cfg),
  ];
}
