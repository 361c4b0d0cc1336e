import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { migrateTarget } from '../../db/targets.js';
import { createClient, sourcePgSettings } from '../../db/pg.js';
import { demoPlan, whereToLook } from '../../ops/demo-plan.js';
import { type Snapshot, snapshot, statusLine } from '../../ops/demo-status.js';
import { checksExitCode } from '../../ops/table.js';
import { connectUrl } from '../../stack/components/connect.js';
import { prometheusUrl } from '../../stack/components/prometheus.js';
import { paths } from '../../stack/config.js';
import { tail } from '../../stack/health.js';
import { type ComponentName, componentNames, loadStackConfig, up } from '../../stack/index.js';
import { registerConnector } from '../../stack/connector.js';
import { runPreflight } from './preflight.js';

const BIN = join(import.meta.dirname, '../../../bin/ride-cdc.js');

/**
 * The whole pipeline on one machine: preflight, native stack (with Prometheus when installed),
 * schemas, seed data, Debezium connector, the worker and the streaming generator (both as child
 * processes logging to files under the stack dir), and one live status line. Ctrl-C stops the
 * generator and drains the worker; the stack keeps running (`npm run stack -- down` stops it).
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'preflight, stack (+ Prometheus), connector, worker and streaming generator with a live status line; RUN_GENERATOR, GENERATOR_SECONDS, GENERATOR_VOLUME, GENERATOR_EXTRA_ARGS',
    )
    .option('--volume <v>', 'generator volume (tiny|small|medium|large); default GENERATOR_VOLUME or small')
    .option(
      '--seconds <n>',
      'stream for n seconds, then drain and exit (0 = until Ctrl-C); default GENERATOR_SECONDS or 0',
    )
    .option('--seed <s>', 'generator seed', '42')
    .option('--no-generator', 'no generator (same as RUN_GENERATOR=false): the worker only')
    .action(async (opts: { volume?: string; seconds?: string; seed: string; generator: boolean }) => {
      const say = (line: string) => process.stderr.write(`[demo] ${line}\n`);
      const plan = demoPlan(process.env, opts);
      const stack = loadStackConfig();
      const cfg = loadWorkerConfig();

      const checks = await runPreflight((s) => process.stderr.write(`${s}\n`));
      if (checksExitCode(checks) !== 0) {
        say('stopping before anything was started: fix the preflight problem above');
        process.exit(1);
      }

      const withPrometheus = existsSync(stack.prometheus.binary);
      // Every component of this stack (all Kafka nodes of a cluster), Prometheus included when installed.
      const only: ComponentName[] | undefined = withPrometheus ? componentNames(stack) : undefined;
      if (!withPrometheus)
        say(`${stack.prometheus.binary} not found: running without Prometheus (apt-get install prometheus)`);
      const t0 = Date.now();
      await up({ cfg: stack, only, log: say });
      say(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await migrateTarget('source', { waitMs: 60_000 });
      await migrateTarget('reporting', { waitMs: 60_000 });
      if (await sourceIsEmpty()) {
        say(`seeding ride_hailing_db (volume ${plan.volume}, seed ${plan.seed})`);
        // History ending now, so the mart's recent windows and the dashboards show it.
        await runChild([
          'generate',
          '--mode',
          'seed',
          '--volume',
          plan.volume,
          '--seed',
          String(plan.seed),
          '--base-time',
          'now',
        ]);
      }
      await registerConnector(stack, { waitMs: 180_000 });
      say('Debezium connector RUNNING');

      const logs = paths(stack).logs;
      const workerLog = join(logs, 'demo-worker.log');
      const generatorLog = plan.runGenerator ? join(logs, 'demo-generator.log') : undefined;
      // The demo's worker watches (and heals) the connector it just registered.
      const worker = spawnLogged(['worker'], workerLog, { CONNECT_URL: connectUrl(stack), ...process.env });
      const metricsUrl = `http://127.0.0.1:${cfg.metricsPort}`;
      await waitReady(worker, metricsUrl, workerLog);
      say(`worker ready (pid ${worker.pid})`);

      const rp = cfg.reporting;
      process.stderr.write(
        `\n${whereToLook({
          workerPort: cfg.metricsPort,
          prometheus: withPrometheus ? prometheusUrl(stack) : undefined,
          superset: {
            url: `http://127.0.0.1:${process.env.SUPERSET_PORT ?? '8088'}`,
            username: process.env.SUPERSET_ADMIN_USERNAME ?? 'admin',
            password: process.env.SUPERSET_ADMIN_PASSWORD ?? 'admin',
          },
          elasticsearch: cfg.elasticsearch.node,
          reporting: {
            host: rp.host,
            port: rp.port,
            database: rp.database,
            user: rp.user,
            password: rp.password,
          },
          logs: { worker: workerLog, generator: generatorLog },
        })}\n\n`,
      );

      const gen = generatorLog ? spawnLogged(plan.streamArgs, generatorLog) : undefined;
      if (gen)
        say(
          `generator streaming (volume ${plan.volume}, ${plan.seconds ? `${plan.seconds} s` : 'until Ctrl-C'}): ride-cdc ${plan.streamArgs.join(' ')}`,
        );
      else say('RUN_GENERATOR=false: no generator; write into ride_hailing_db yourself to see changes flow');

      const status = startStatus(metricsUrl);
      let stopping = false;
      const stop = async (code: number) => {
        if (stopping) process.exit(130);
        stopping = true;
        status.stop();
        if (gen) {
          gen.kill('SIGINT');
          await exited(gen);
          say('generator stopped');
        }
        say('draining the worker');
        worker.kill('SIGTERM');
        const wcode = await exited(worker);
        say(`worker exited ${wcode}. The stack is still running: npm run stack -- status | down`);
        process.exit(code || (wcode === 0 ? 0 : 1));
      };
      process.on('SIGINT', () => void stop(0));
      process.on('SIGTERM', () => void stop(0));
      worker.once('exit', (c) => {
        if (stopping) return;
        say(`worker exited unexpectedly (${c}); last lines of ${workerLog}:\n${tail(workerLog, 20)}`);
        void stop(1);
      });
      if (gen) {
        const code = await exited(gen);
        if (!stopping) {
          say(`generator finished (exit ${code}); log ${generatorLog}`);
          await stop(code === 0 ? 0 : 1);
        }
      }
    });
}

/** Redraws one line in place on a terminal; a plain line every 10 s otherwise (CI logs, pipes). */
function startStatus(metricsUrl: string): { stop(): void } {
  const tty = process.stdout.isTTY === true;
  let prev: Snapshot | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(3000) });
      const cur = snapshot(await res.text(), Date.now());
      if (prev) {
        const line = `${new Date().toISOString().slice(11, 19)}  ${statusLine(prev, cur)}`;
        if (tty) process.stdout.write(`\r\x1b[2K${line.slice(0, (process.stdout.columns ?? 200) - 1)}`);
        else process.stdout.write(`${line}\n`);
      }
      prev = cur;
    } catch (err) {
      if (tty) process.stdout.write(`\r\x1b[2Kworker metrics unreachable: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => void tick(), tty ? 1000 : 10_000);
  void tick();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (tty) process.stdout.write('\n');
    },
  };
}

function spawnLogged(args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const fd = openSync(logFile, 'a');
  return spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', fd, fd] });
}

async function waitReady(worker: ChildProcess, metricsUrl: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (worker.exitCode !== null)
      throw new Error(
        `worker exited with ${worker.exitCode} during start; ${logFile}:\n${tail(logFile, 20)}`,
      );
    try {
      if ((await fetch(`${metricsUrl}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new Error(`worker not ready after 180 s; ${logFile}:\n${tail(logFile, 20)}`);
}

async function sourceIsEmpty(): Promise<boolean> {
  const c = createClient(sourcePgSettings());
  await c.connect();
  try {
    return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM drivers')).rows[0]!.n === 0;
  } finally {
    await c.end();
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

async function runChild(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'inherit' });
  const code = await exited(child);
  if (code !== 0) throw new Error(`ride-cdc ${args.join(' ')} exited with ${code}`);
}
