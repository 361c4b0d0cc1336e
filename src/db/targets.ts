/**
 * The two databases whose schema this repo owns, their migration directories and connection
 * settings. `migrateTarget` is what `ride-cdc migrate`, the generator and the tests call.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { retry } from '../shared/retry.js';
import { runMigrations, type MigrateResult, type MigrationLogger } from './migrations.js';
import {
  describePg,
  ensureDatabase,
  isConnectionError,
  reportingPgSettings,
  sourcePgSettings,
  type PgSettings,
} from './pg.js';

export const MIGRATION_TARGETS = ['source', 'reporting'] as const;
export type MigrationTarget = (typeof MIGRATION_TARGETS)[number];

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function migrationDir(target: MigrationTarget): string {
  return join(repoRoot, 'mart-sql', target);
}

export function settingsFor(target: MigrationTarget, env: NodeJS.ProcessEnv = process.env): PgSettings {
  return target === 'source' ? sourcePgSettings(env) : reportingPgSettings(env);
}

export interface MigrateTargetOptions {
  /** Connection settings; default from the environment for the target. */
  settings?: PgSettings;
  /** Override the directory (tests). */
  dir?: string;
  /** Create the database when it does not exist. Default true. */
  createDatabase?: boolean;
  /** Keep retrying an unreachable server this long (a stack that is still starting). Default 0. */
  waitMs?: number;
  logger?: MigrationLogger;
  signal?: AbortSignal;
}

export async function migrateTarget(
  target: MigrationTarget,
  opts: MigrateTargetOptions = {},
): Promise<MigrateResult> {
  const settings = opts.settings ?? settingsFor(target);
  const dir = opts.dir ?? migrationDir(target);
  const deadline = Date.now() + (opts.waitMs ?? 0);
  return retry(
    async () => {
      if (opts.createDatabase ?? true) {
        if (await ensureDatabase(settings))
          opts.logger?.info(`migrations: created database ${describePg(settings)}`);
      }
      return runMigrations(settings, { dir, logger: opts.logger });
    },
    {
      initialDelayMs: 250,
      maxDelayMs: 2_000,
      signal: opts.signal,
      retriable: (err) => isConnectionError(err) && Date.now() < deadline,
      onRetry: (err, attempt) =>
        opts.logger?.warn(
          `migrations: ${describePg(settings)} not reachable yet (${(err as Error).message}); attempt ${attempt}`,
        ),
    },
  );
}
