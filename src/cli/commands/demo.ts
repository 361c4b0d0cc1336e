import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { migrateTarget } from '../../db/targets.js';
import { createClient, sourcePgSettings } from '../../db/pg.js';
import { createLogger } from '../../observe/logger.js';
import { loadStackConfig, up } from '../../stack/index.js';
import { registerConnector } from '../../stack/connector.js';
import { Worker } from '../../worker/worker.js';

const BIN = join(import.meta.dirname, '../../../bin/ride-cdc.js');

/**
 * The whole pipeline on one machine: native stack, schemas, seed data, Debezium connector, the
 * worker (in this process) and the generator streaming into ride_hailing_db. Ctrl-C stops the
 * generator and drains the worker; the stack keeps running (`npm run stack -- down` stops it).
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('Bring the stack up, register the connector, run the worker and stream the generator')
    .option('--volume <v>', 'generator volume (tiny|small|medium|large)', 'small')
    .option('--seconds <n>', 'stream for n seconds, then drain and exit (0 = until Ctrl-C)', '0')
    .option('--seed <s>', 'generator seed', '42')
    .action(async (opts: { volume: string; seconds: string; seed: string }) => {
      const log = (line: string) => process.stderr.write(`[demo] ${line}\n`);
      const stack = loadStackConfig();
      const t0 = Date.now();
      await up({ cfg: stack, log });
      log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await migrateTarget('source', { waitMs: 60_000 });
      await migrateTarget('reporting', { waitMs: 60_000 });

      if (await sourceIsEmpty()) {
        log(`seeding ride_hailing_db (volume ${opts.volume}, seed ${opts.seed})`);
        // History ending now, so Kibana's and the mart's recent windows show it.
        await runChild(
          ['generate', '--mode', 'seed', '--volume', opts.volume, '--seed', opts.seed, '--base-time', 'now'],
          'inherit',
        );
      }
      await registerConnector(stack, { waitMs: 180_000 });
      log('Debezium connector RUNNING');

      const cfg = loadWorkerConfig();
      const worker = new Worker(cfg, createLogger(cfg.logLevel));
      await worker.start();
      log(
        `worker running: metrics http://127.0.0.1:${worker.metricsPort}/metrics, Elasticsearch ${cfg.elasticsearch.node}, reporting_db port ${cfg.reporting.port}`,
      );

      const gen = spawn(
        process.execPath,
        [
          BIN,
          'generate',
          '--mode',
          'stream',
          '--volume',
          opts.volume,
          '--seconds',
          opts.seconds,
          '--seed',
          String(Number(opts.seed) + 1),
        ],
        { stdio: 'inherit' },
      );
      let stopping = false;
      const stop = async (code: number) => {
        if (stopping) process.exit(130);
        stopping = true;
        gen.kill('SIGINT');
        await exited(gen);
        log('generator stopped; draining the worker');
        await worker.stop();
        log('done. The stack is still running: `npm run stack -- status`, `npm run stack -- down`.');
        process.exit(code);
      };
      process.on('SIGINT', () => void stop(0));
      process.on('SIGTERM', () => void stop(0));
      const code = await exited(gen);
      if (!stopping) await stop(code === 0 ? 0 : 1);
    });
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

async function runChild(args: string[], stdio: 'inherit'): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio });
  const code = await exited(child);
  if (code !== 0) throw new Error(`ride-cdc ${args.join(' ')} exited with ${code}`);
}
