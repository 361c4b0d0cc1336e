import { resolve } from 'node:path';
import { EnvReader } from '../config/env.js';
import type { StackConfig } from '../stack/config.js';

/** Superset 6.1.0 from PyPI, with constraints.txt pinning what its wheel leaves open. */
export const SUPERSET_VERSION = '6.1.0';
/** The PostgreSQL driver Superset talks to reporting_db with (not a Superset dependency). */
export const PSYCOPG2_VERSION = '2.9.10';

export interface SupersetSettings {
  /** <stack>/superset: venv/, home/ (config, SQLite metadata, secret), bundle build dir. */
  dir: string;
  venv: string;
  home: string;
  port: number;
  /** Python for the venv: 3.10–3.12 (Superset 6.1's supported range). */
  python: string;
  admin: { username: string; password: string; email: string };
  /** reporting_db as Superset reaches it. */
  reporting: { host: string; port: number; database: string; user: string; password: string };
  /** The role reporting_db is registered with when it exists (helper migrations may create it). */
  readerRole: string;
  readerPassword?: string;
  startTimeoutMs: number;
}

export function loadSupersetSettings(
  stack: StackConfig,
  env: NodeJS.ProcessEnv = process.env,
): SupersetSettings {
  const r = new EnvReader(env);
  const dir = resolve(stack.dir, 'superset');
  const s: SupersetSettings = {
    dir,
    venv: resolve(dir, 'venv'),
    home: resolve(dir, 'home'),
    port: r.int('SUPERSET_PORT', 8088, 1, 65535),
    python: r.str('SUPERSET_PYTHON', 'python3'),
    admin: {
      username: r.str('SUPERSET_ADMIN_USERNAME', 'admin'),
      password: r.str('SUPERSET_ADMIN_PASSWORD', 'admin'),
      email: r.str('SUPERSET_ADMIN_EMAIL', 'admin@ride-cdc.local'),
    },
    reporting: {
      host: r.str('REPORTING_PGHOST', '127.0.0.1'),
      port: r.int('REPORTING_PGPORT', stack.ports.reportingPg, 1, 65535),
      database: r.str('REPORTING_PGDB', stack.pg.reportingDb),
      user: r.str('REPORTING_PGUSER', stack.pg.user),
      password: r.str('REPORTING_PGPASSWORD', stack.pg.password),
    },
    readerRole: r.str('REPORTING_READER_USER', 'reporting_reader'),
    readerPassword: r.optional('REPORTING_READER_PASSWORD'),
    startTimeoutMs: r.int('SUPERSET_START_TIMEOUT_MS', 180_000, 1000),
  };
  r.done();
  return s;
}

export const supersetUrl = (s: SupersetSettings) => `http://127.0.0.1:${s.port}`;
