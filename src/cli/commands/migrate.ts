/**
 * `ride-cdc migrate [--target source|reporting|all]`: applies mart-sql/source to ride_hailing_db
 * (GENERATOR_PG*) and/or mart-sql/reporting to reporting_db (REPORTING_PG*).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import {
  MIGRATION_TARGETS,
  migrateTarget,
  migrationDir,
  settingsFor,
  type MigrationTarget,
} from '../../db/targets.js';
import { describePg } from '../../db/pg.js';
import { errorMessage } from '../../shared/errors.js';

interface MigrateCliOptions {
  target: MigrationTarget | 'all';
  waitSeconds: string;
  createDb: boolean;
}

export function register(program: Command): void {
  program
    .command('migrate')
    .description(
      'apply the ordered SQL migrations (mart-sql/source → ride_hailing_db, mart-sql/reporting → reporting_db)',
    )
    .addOption(
      new Option('--target <target>', 'which database').choices([...MIGRATION_TARGETS, 'all']).default('all'),
    )
    .option('--wait-seconds <n>', 'keep retrying an unreachable server this long', '10')
    .option('--no-create-db', 'fail instead of creating a missing database')
    .action(async (opts: MigrateCliOptions) => {
      const waitSeconds = Number(opts.waitSeconds);
      if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
        console.error(`--wait-seconds ${JSON.stringify(opts.waitSeconds)}: expected a number >= 0`);
        process.exitCode = 2;
        return;
      }
      const targets: MigrationTarget[] = opts.target === 'all' ? [...MIGRATION_TARGETS] : [opts.target];
      const logger = {
        info: (m: string) => console.error(m),
        warn: (m: string) => console.error(`warning: ${m}`),
      };
      for (const target of targets) {
        try {
          const settings = settingsFor(target);
          console.error(`migrate ${target}: ${migrationDir(target)} → ${describePg(settings)}`);
          const r = await migrateTarget(target, {
            settings,
            waitMs: waitSeconds * 1000,
            createDatabase: opts.createDb,
            logger,
          });
          console.error(
            `migrate ${target}: ${r.applied.length} applied, ${r.skipped.length} already applied`,
          );
        } catch (err) {
          console.error(`migrate ${target} failed: ${errorMessage(err)}`);
          process.exitCode = 1;
          return;
        }
      }
    });
}
