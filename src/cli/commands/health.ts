import { join } from 'node:path';
import type { Command } from 'commander';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { sourcePgSettings } from '../../db/pg.js';
import { healthChecks } from '../../ops/health-checks.js';
import { checkTable, checksExitCode } from '../../ops/table.js';
import { prometheusUrl } from '../../stack/components/prometheus.js';
import { DEFAULT_CONNECTOR_FILE, loadConnector, stackConnectorEnv } from '../../stack/connector.js';
import { loadStackConfig } from '../../stack/index.js';

/** `ride-cdc health`: one table of every component; exit 1 when any is unhealthy. */
export function register(program: Command): void {
  program
    .command('health')
    .description(
      'brokers, connector and tasks, registry, Elasticsearch, both databases, worker /readyz, Prometheus targets; exit 1 if any is unhealthy',
    )
    .option('--connector <name>', 'connector name (default: the one in the connector file)')
    .option('--slot <name>', 'replication slot (default: slot.name of the connector file)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { connector?: string; slot?: string; json?: boolean }) => {
      const stack = loadStackConfig();
      const worker = loadWorkerConfig();
      const file = loadConnector(join(stack.repoRoot, DEFAULT_CONNECTOR_FILE), stackConnectorEnv(stack));
      const rows = await healthChecks({
        worker,
        stack,
        source: sourcePgSettings(),
        connector: opts.connector ?? file.name,
        slot: opts.slot ?? file.config['slot.name'] ?? 'ride_cdc_slot',
        workerUrl: process.env.WORKER_URL ?? `http://127.0.0.1:${worker.metricsPort}`,
        prometheusUrl: process.env.PROMETHEUS_URL ?? prometheusUrl(stack),
      });
      console.log(opts.json ? JSON.stringify(rows, null, 2) : checkTable(rows));
      // A Kafka client still retrying a dead broker would keep the process alive: exit now.
      process.exit(checksExitCode(rows));
    });
}
