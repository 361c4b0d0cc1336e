/**
 * `ride-cdc` command line. Each subcommand lives in its own module under ./commands and exports
 * `register(program)`; this file only wires them together.
 */
import { Command } from 'commander';

const modules = [
  './commands/stack.js',
  './commands/generate.js',
  './commands/migrate.js',
  './commands/connector.js',
  './commands/worker.js',
  './commands/tail.js',
  './commands/es.js',
  './commands/demo.js',
  './commands/offsets.js',
  './commands/verify.js',
  './commands/cohorts.js',
  './commands/mart.js',
  './commands/preflight.js',
  './commands/health.js',
  './commands/sla.js',
  './commands/dlq.js',
];

const program = new Command('ride-cdc')
  .description('Debezium change events of ride_hailing_db → Elasticsearch views and the reporting mart')
  .showHelpAfterError();

for (const path of modules) {
  const mod = (await import(path)) as { register: (p: Command) => void };
  mod.register(program);
}

await program.parseAsync(process.argv);
