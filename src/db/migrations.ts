/**
 * Ordered, idempotent SQL migrations.
 *
 * A directory holds `NNN_name.sql` files. Each pending file runs in its own transaction together
 * with the insert of its row into `<schema>.schema_migrations(name, checksum, applied_at)`, so a
 * file is either fully applied and recorded or not at all. Applied files are skipped; an applied
 * file whose content changed fails loudly (edit history by adding a new file, never by rewriting
 * one). A session advisory lock keyed on the bookkeeping table serialises concurrent runners: the
 * second one waits, then finds everything applied.
 *
 * A file whose first line is `-- migrate:no-transaction` runs outside a transaction, statement by
 * statement (for CREATE INDEX CONCURRENTLY and the like); it is recorded only after all of it
 * succeeded, so it must be written to be re-runnable.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { RideCdcError } from '../shared/errors.js';
import { createClient, quoteIdent, type PgSettings } from './pg.js';
import { splitSqlStatements } from './sql-split.js';

export interface Migration {
  version: number;
  /** File name, e.g. `001_schema.sql`; the key recorded in schema_migrations. */
  name: string;
  path: string;
  sql: string;
  checksum: string;
  transactional: boolean;
}

export interface MigrateOptions {
  /** Directory of `NNN_name.sql` files. Missing or empty = nothing to do. */
  dir: string;
  /** Schema of the bookkeeping table (created if missing). Default `public`. */
  schema?: string;
  /** How long to wait for another runner holding the lock. Default 120 s. */
  lockTimeoutMs?: number;
  logger?: MigrationLogger;
}

export interface MigrationLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface MigrateResult {
  applied: string[];
  skipped: string[];
}

/** Bad migration files or a changed checksum: a human has to look, retrying cannot help. */
export class MigrationError extends RideCdcError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
  }
}

const FILE_RE = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_.-]*)\.sql$/;
const NO_TX_RE = /^--\s*migrate:no-transaction\b/;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads and orders the migrations of a directory; a `.sql` file with a bad name is an error. */
export function loadMigrations(dir: string): Migration[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const out: Migration[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.sql')) continue;
    const m = FILE_RE.exec(name);
    if (!m) throw new MigrationError(`${join(dir, name)}: migration files must be named NNN_name.sql`);
    const path = join(dir, name);
    const sql = readFileSync(path, 'utf8');
    out.push({
      version: Number(m[1]),
      name,
      path,
      sql,
      checksum: checksumOf(sql),
      transactional: !NO_TX_RE.test(sql),
    });
  }
  out.sort((a, b) => a.version - b.version || a.name.localeCompare(b.name));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) {
      throw new MigrationError(
        `${dir}: ${out[i - 1]!.name} and ${out[i]!.name} share version ${out[i]!.version}`,
      );
    }
  }
  return out;
}

/**
 * Applies the pending migrations of `opts.dir`. Accepts connection settings (a dedicated session is
 * opened and closed) or a connected client (left open; it must not be inside a transaction).
 * Blocks until done; throws MigrationError for bad files, changed checksums and failing SQL.
 */
export async function runMigrations(
  target: PgSettings | pg.Client,
  opts: MigrateOptions,
): Promise<MigrateResult> {
  const migrations = loadMigrations(opts.dir);
  const result: MigrateResult = { applied: [], skipped: [] };
  if (migrations.length === 0) {
    opts.logger?.info(`migrations: nothing to apply in ${opts.dir}`);
    return result;
  }
  const own = !isClient(target);
  const client = isClient(target) ? target : createClient(target, { applicationName: 'ride-cdc-migrate' });
  if (own) await client.connect();
  const schema = opts.schema ?? 'public';
  const table = `${quoteIdent(schema)}.schema_migrations`;
  const lockKey = `ride-cdc:migrations:${schema}.schema_migrations`;
  try {
    await acquireLock(client, lockKey, opts.lockTimeoutMs ?? 120_000);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${table} (
           name       text PRIMARY KEY,
           checksum   text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const { rows } = await client.query<{ name: string; checksum: string }>(
        `SELECT name, checksum FROM ${table}`,
      );
      const applied = new Map(rows.map((r) => [r.name, r.checksum]));
      const known = new Set(migrations.map((m) => m.name));
      for (const name of applied.keys()) {
        if (!known.has(name))
          opts.logger?.warn(`migrations: ${name} is recorded as applied but no longer exists in ${opts.dir}`);
      }
      for (const m of migrations) {
        const recorded = applied.get(m.name);
        if (recorded !== undefined) {
          if (recorded !== m.checksum) {
            throw new MigrationError(
              `${m.path} changed after it was applied (recorded checksum ${recorded.slice(0, 12)}…, file ${m.checksum.slice(0, 12)}…); ` +
                'add a new migration instead of editing an applied one',
            );
          }
          result.skipped.push(m.name);
          continue;
        }
        await applyOne(client, table, m);
        opts.logger?.info(`migrations: applied ${m.name}`);
        result.applied.push(m.name);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey]).catch(() => {});
    }
  } finally {
    if (own) await client.end().catch(() => {});
  }
  return result;
}

async function applyOne(client: pg.Client, table: string, m: Migration): Promise<void> {
  const record = `INSERT INTO ${table} (name, checksum) VALUES ($1, $2)`;
  if (!m.transactional) {
    try {
      for (const stmt of splitSqlStatements(m.sql)) await client.query(stmt);
    } catch (err) {
      // Positions are relative to the failing statement here, not to the file.
      throw failed(m, err, false);
    }
    await client.query(record, [m.name, m.checksum]);
    return;
  }
  await client.query('BEGIN');
  try {
    await client.query(m.sql);
    await client.query(record, [m.name, m.checksum]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw failed(m, err);
  }
}

function failed(m: Migration, err: unknown, withLine = true): MigrationError {
  const e = err as { message?: string; position?: string; code?: string };
  let where = '';
  if (withLine && e.position) {
    const line = m.sql.slice(0, Number(e.position)).split('\n').length;
    where = `:${line}`;
  }
  const code = e.code ? ` [${e.code}]` : '';
  return new MigrationError(`${m.path}${where}: ${e.message ?? String(err)}${code}`, err);
}

/** Polls pg_try_advisory_lock so a stuck peer turns into a clear timeout instead of a hang. */
async function acquireLock(client: pg.Client, key: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok',
      [key],
    );
    if (rows[0]?.ok) return;
    if (Date.now() > deadline) {
      throw new MigrationError(
        `timed out after ${timeoutMs} ms waiting for the migration lock (${key}) held by another session`,
      );
    }
    await sleep(200);
  }
}

function isClient(t: PgSettings | pg.Client): t is pg.Client {
  return typeof (t as pg.Client).query === 'function';
}
