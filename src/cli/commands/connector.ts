import type { Command } from 'commander';
import {
  DEFAULT_CONNECTOR_FILE,
  connectorNameFromFile,
  deleteConnector,
  failedTrace,
  getConnectorStatus,
  registerConnector,
  restartConnector,
  waitRunning,
  type ConnectorStatus,
} from '../../stack/connector.js';
import { loadStackConfig } from '../../stack/index.js';

/** `ride-cdc connector register|status|delete`: the Debezium connector in Kafka Connect. */
export function register(program: Command): void {
  const cmd = program.command('connector').description('Debezium connector in Kafka Connect (CONNECT_PORT)');

  cmd
    .command('register')
    .description('create or update the connector (idempotent) and wait until it and its task are RUNNING')
    .option('-f, --file <path>', 'connector JSON (placeholders filled from env)', DEFAULT_CONNECTOR_FILE)
    .option('-w, --wait <seconds>', 'how long to wait for RUNNING', '120')
    .action(async (opts: { file: string; wait: string }) => {
      const cfg = loadStackConfig();
      await reportFailure(async () =>
        printSummary(await registerConnector(cfg, { file: opts.file, waitMs: Number(opts.wait) * 1000 })),
      );
    });

  cmd
    .command('status')
    .description('connector and task state; exits non-zero (printing the trace) when something FAILED')
    .argument('[name]', 'connector name (default: the one in the connector file)')
    .action(async (name: string | undefined) => {
      const cfg = loadStackConfig();
      const n = name ?? connectorNameFromFile(cfg);
      await reportFailure(async () => {
        const s = await getConnectorStatus(cfg, n);
        if (!s) {
          console.error(`connector ${n} is not registered (run: ride-cdc connector register)`);
          process.exitCode = 2;
          return;
        }
        console.log(`connector ${s.name}: ${s.connector.state} on ${s.connector.worker_id ?? '?'}`);
        for (const t of s.tasks) console.log(`  task ${t.id}: ${t.state} on ${t.worker_id ?? '?'}`);
        const failed = failedTrace(s);
        if (failed) {
          console.error(failed);
          process.exitCode = 1;
        }
      });
    });

  cmd
    .command('restart')
    .description('restart the connector and its FAILED tasks, then wait until RUNNING')
    .argument('[name]', 'connector name (default: the one in the connector file)')
    .option('-w, --wait <seconds>', 'how long to wait for RUNNING', '120')
    .action(async (name: string | undefined, opts: { wait: string }) => {
      const cfg = loadStackConfig();
      const n = name ?? connectorNameFromFile(cfg);
      await reportFailure(async () => {
        await restartConnector(cfg, n);
        printSummary(await waitRunning(cfg, n, Number(opts.wait) * 1000, 15_000));
      });
    });

  cmd
    .command('delete')
    .description('remove the connector (its replication slot and Kafka offsets stay)')
    .argument('[name]', 'connector name (default: the one in the connector file)')
    .action(async (name: string | undefined) => {
      const cfg = loadStackConfig();
      const n = name ?? connectorNameFromFile(cfg);
      console.log((await deleteConnector(cfg, n)) ? `deleted ${n}` : `${n} was not registered`);
    });
}

function printSummary(s: ConnectorStatus): void {
  console.log(
    `${s.name}: connector ${s.connector.state}, tasks ${s.tasks.map((t) => `${t.id}=${t.state}`).join(' ')}`,
  );
}

/** Runs a subcommand; a failure is printed (no stack trace) and the exit code set to 1. */
async function reportFailure(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
