import type { Command } from 'commander';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { createLogger } from '../../observe/logger.js';
import { ConfigError } from '../../shared/errors.js';
import { Worker } from '../../worker/worker.js';
import { CATALOG } from '../../project/metrics/catalog.js';

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'Consume Debezium topics and maintain Elasticsearch and reporting_db (config from environment)',
    )
    .action(async () => {
      let cfg;
      try {
        cfg = loadWorkerConfig();
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`ride-cdc worker: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      const logger = createLogger(cfg.logLevel);
      if (cfg.developmentDefaults.length > 0)
        logger.warn(
          { variables: cfg.developmentDefaults },
          `not set: ${cfg.developmentDefaults.join(', ')}; using the development stack's credentials (user/password), which no real deployment may use`,
        );
      if (cfg.reporting.kpis)
        logger.warn(
          { kpis: cfg.reporting.kpis },
          `REPORTING_KPIS is set: only ${cfg.reporting.kpis.length} of ${CATALOG.length} KPIs are maintained; the others' mart rows stay as they are`,
        );
      const worker = new Worker(cfg, logger);
      installSignals(worker, logger);
      try {
        await worker.start();
      } catch (err) {
        if (worker.currentState === 'DRAINING' || worker.currentState === 'STOPPED') return;
        logger.fatal({ err: (err as Error).message }, 'worker failed to start');
        await worker.stop().catch(() => undefined);
        process.exit(1);
      }
    });
}

/** The one place that owns OS signals: first one drains, a second one abandons in-flight batches. */
function installSignals(worker: Worker, logger: ReturnType<typeof createLogger>): void {
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal: sig }, 'second signal: abandoning in-flight batches (they will be replayed)');
      void worker.stop().finally(() => process.exit(130));
      return;
    }
    signalled = true;
    logger.info({ signal: sig }, 'draining');
    worker.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.fatal({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
