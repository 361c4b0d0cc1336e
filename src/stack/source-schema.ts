import type { MigrateResult } from '../db/migrations.js';
import { migrateTarget } from '../db/targets.js';
import type { StackConfig } from './config.js';

/**
 * Applies mart-sql/source (ride_hailing_db's schema) through the project's migration runner, so
 * the native stack, `ride-cdc migrate` and the tests share one bookkeeping table and one lock.
 * Runs on every `up`: already-applied files are skipped.
 */
export async function applySourceSchema(cfg: StackConfig, port: number, db: string): Promise<MigrateResult> {
  return migrateTarget('source', {
    settings: { host: '127.0.0.1', port, database: db, user: cfg.pg.user, password: cfg.pg.password },
    createDatabase: true,
    logger: { info: () => {}, warn: (m) => process.stderr.write(`[postgres-source] ${m}\n`) },
  });
}
