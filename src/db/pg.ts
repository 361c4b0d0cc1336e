/**
 * PostgreSQL connection settings from the environment. Every database the project talks to is
 * described by five variables sharing a prefix (`GENERATOR_PGHOST`, `REPORTING_PGPORT`, ...), read
 * and validated here once so the CLI, the generator and the tests agree on names and defaults.
 */
import pg from 'pg';
import { EnvReader } from '../config/env.js';

export interface PgSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

export interface PgDefaults {
  host?: string;
  port?: number;
  database: string;
  user?: string;
  password?: string;
}

/** ride_hailing_db, written by the generator and captured by Debezium. */
export const SOURCE_PG_PREFIX = 'GENERATOR_';
export const SOURCE_PG_DEFAULTS: PgDefaults = { host: 'localhost', port: 5432, database: 'ride_hailing_db' };
/** reporting_db, the mart the worker writes. */
export const REPORTING_PG_PREFIX = 'REPORTING_';
export const REPORTING_PG_DEFAULTS: PgDefaults = { host: 'localhost', port: 5433, database: 'reporting_db' };

/**
 * Reads `<prefix>PGHOST`, `<prefix>PGPORT`, `<prefix>PGDB`, `<prefix>PGUSER`, `<prefix>PGPASSWORD`.
 * Throws a ConfigError naming every bad value.
 */
export function pgSettingsFromEnv(
  prefix: string,
  defaults: PgDefaults,
  env: NodeJS.ProcessEnv = process.env,
): PgSettings {
  const r = new EnvReader(env);
  const settings = readPgSettings(r, prefix, defaults);
  r.done();
  return settings;
}

/** The same, on a reader that collects the problems of a larger configuration (the worker's). */
export function readPgSettings(r: EnvReader, prefix: string, defaults: PgDefaults): PgSettings {
  return {
    host: r.str(`${prefix}PGHOST`, defaults.host ?? 'localhost'),
    port: r.int(`${prefix}PGPORT`, defaults.port ?? 5432, 1, 65535),
    database: r.str(`${prefix}PGDB`, defaults.database),
    user: r.str(`${prefix}PGUSER`, defaults.user ?? 'user'),
    password: r.str(`${prefix}PGPASSWORD`, defaults.password ?? 'password'),
  };
}

export function sourcePgSettings(env: NodeJS.ProcessEnv = process.env): PgSettings {
  return pgSettingsFromEnv(SOURCE_PG_PREFIX, SOURCE_PG_DEFAULTS, env);
}

export function reportingPgSettings(env: NodeJS.ProcessEnv = process.env): PgSettings {
  return pgSettingsFromEnv(REPORTING_PG_PREFIX, REPORTING_PG_DEFAULTS, env);
}

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /** Session settings applied to every connection, e.g. `{ synchronous_commit: 'off' }`. */
  sessionSettings?: Record<string, string>;
  connectionTimeoutMillis?: number;
}

export function poolConfig(s: PgSettings, opts: PoolOptions = {}): pg.PoolConfig {
  const settings = Object.entries(opts.sessionSettings ?? {})
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  return {
    host: s.host,
    port: s.port,
    database: s.database,
    user: s.user,
    password: s.password,
    max: opts.max ?? 4,
    application_name: opts.applicationName ?? 'ride-cdc',
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 10_000,
    ...(settings ? { options: settings } : {}),
  };
}

/**
 * A pool whose lost connections never crash the process. pg-pool listens for a client's errors
 * only while it is idle; a client checked out for a transaction that loses its server between two
 * queries (a crash, a restart) emits 'error' with no listener, which kills the process. Every
 * client gets a listener for its whole life: the error is reported, the transaction's next query
 * fails and its caller retries on a new connection.
 */
export function createPool(
  s: PgSettings,
  opts: PoolOptions = {},
  onError: (err: Error) => void = () => {},
): pg.Pool {
  const pool = new pg.Pool(poolConfig(s, opts));
  // The same error reaches the client's own listener below, which reports it.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

export function createClient(s: PgSettings, opts: PoolOptions = {}): pg.Client {
  const { max: _max, ...cfg } = poolConfig(s, opts);
  return new pg.Client(cfg);
}

/** `user@host:port/db` — safe to log (no password). */
export function describePg(s: PgSettings): string {
  return `${s.user}@${s.host}:${s.port}/${s.database}`;
}

/** PostgreSQL error codes that mean "the server is not (yet) there", worth waiting for. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  if (!code) return false;
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'ENOTFOUND',
      'EAI_AGAIN',
      '57P01',
      '57P02',
      '57P03',
    ].includes(code) || code.startsWith('08')
  );
}

/** SQLSTATE 3D000: the database does not exist. */
export function isMissingDatabase(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === '3D000';
}

/** SQLSTATE 55P03 lock_not_available: a lock_timeout expired (or NOWAIT found the lock taken). */
export const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The other sessions at work in this connection's database (not idle), one line each, for an error
 * that has to say who holds what it waited for: "pid 123 (app, state): statement".
 */
export async function describeOtherSessions(c: Pick<pg.ClientBase, 'query'>): Promise<string> {
  const r = await c.query<{ pid: number; app: string; state: string; query: string }>(
    `SELECT pid, application_name AS app, state, left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`,
  );
  return r.rows.map((x) => `pid ${x.pid} (${x.app}, ${x.state}): ${x.query}`).join('; ');
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the database if it does not exist, connecting to the server's `postgres` maintenance
 * database. Returns true if it was created. Concurrent creators are tolerated.
 */
export async function ensureDatabase(s: PgSettings): Promise<boolean> {
  const probe = createClient(s);
  try {
    await probe.connect();
    return false;
  } catch (err) {
    if (!isMissingDatabase(err)) throw err;
  } finally {
    await probe.end().catch(() => {});
  }
  const admin = createClient({ ...s, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(s.database)}`);
    return true;
  } catch (err) {
    // 42P04 duplicate_database; 23505 when a concurrent CREATE DATABASE wins the catalog insert.
    const code = (err as { code?: string }).code;
    if (code === '42P04' || code === '23505') return false;
    throw err;
  } finally {
    await admin.end().catch(() => {});
  }
}
