import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from '../db/pg.js';
import type { StackConfig } from '../stack/config.js';
import { isOurs, readPid, removePid, startDetached, stopGroup } from '../stack/processes.js';
import { SupersetApi } from './api.js';
import { BUNDLE_ROOT, DATABASE_FILE, buildBundle, type DatabaseTarget } from './bundle.js';
import { configPath, writeConfig } from './config-file.js';
import { ensureSuperset, venvBin } from './install.js';
import { type SupersetSettings, supersetUrl } from './settings.js';

const run = promisify(execFile);
const pidFile = (cfg: StackConfig) => resolve(cfg.dir, 'run', 'superset.pid');
export const supersetLog = (cfg: StackConfig) => resolve(cfg.dir, 'logs', 'superset.log');

function supersetEnv(s: SupersetSettings): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SUPERSET_CONFIG_PATH: configPath(s),
    SUPERSET_HOME: s.home,
    FLASK_APP: 'superset',
    PYTHONUNBUFFERED: '1',
  };
}

async function cli(s: SupersetSettings, args: string[], timeoutMs = 300_000): Promise<string> {
  try {
    const { stdout, stderr } = await run(venvBin(s, 'superset'), args, {
      env: supersetEnv(s),
      timeout: timeoutMs,
      maxBuffer: 32 * 1024 * 1024,
    });
    return `${stdout}${stderr}`;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `superset ${args[0]} ${args[1] ?? ''} failed: ${(e.stderr || e.stdout || e.message).slice(-1500)}`,
    );
  }
}

/**
 * The login reporting_db is registered with: the read-only role `reporting_reader` when it exists
 * and its password is given, otherwise the reporting owner. Either way every Superset session is
 * read-only (default_transaction_read_only, see bundle.ts) and DML is off in Superset.
 */
export async function reportingLogin(
  s: SupersetSettings,
): Promise<{ target: DatabaseTarget; password: string; note: string }> {
  const base = { host: s.reporting.host, port: s.reporting.port, database: s.reporting.database };
  const c = createClient({ ...base, user: s.reporting.user, password: s.reporting.password });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [s.readerRole]);
    if (r.rowCount && s.readerPassword)
      return {
        target: { ...base, user: s.readerRole },
        password: s.readerPassword,
        note: `registered as the read-only role ${s.readerRole}`,
      };
    const why = r.rowCount
      ? `role ${s.readerRole} exists but REPORTING_READER_PASSWORD is not set`
      : `no role ${s.readerRole} in reporting_db yet`;
    return {
      target: { ...base, user: s.reporting.user },
      password: s.reporting.password,
      note: `${why}: registered as ${s.reporting.user} with read-only sessions (default_transaction_read_only) and DML off`,
    };
  } finally {
    await c.end();
  }
}

/**
 * The bundle as the four import endpoints want it: an import creates the missing objects it
 * depends on but never updates existing ones (a dataset, chart or dashboard import brings its
 * database with overwrite off), so each kind is imported through its own endpoint with overwrite,
 * dependencies first, each zip saying in metadata.yaml what it holds. The database goes first: its
 * URI and password follow REPORTING_PG* on every `up` (a Superset registered against one
 * reporting_db keeps working when it moves).
 */
const IMPORTS = [
  { resource: 'database', type: 'Database', dirs: ['databases/'] },
  { resource: 'dataset', type: 'SqlaTable', dirs: ['databases/', 'datasets/'] },
  { resource: 'chart', type: 'Slice', dirs: ['databases/', 'datasets/', 'charts/'] },
  { resource: 'dashboard', type: 'Dashboard', dirs: ['databases/', 'datasets/', 'charts/', 'dashboards/'] },
] as const;

async function bundleZip(
  s: SupersetSettings,
  target: DatabaseTarget,
  imp: (typeof IMPORTS)[number],
): Promise<Buffer> {
  const dir = resolve(s.dir, 'bundle', imp.resource);
  await rm(dir, { recursive: true, force: true });
  for (const [path, text] of buildBundle(target)) {
    if (path !== 'metadata.yaml' && !imp.dirs.some((d) => path.startsWith(d))) continue;
    const file = join(dir, BUNDLE_ROOT, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, path === 'metadata.yaml' ? text.replace('"Dashboard"', `"${imp.type}"`) : text);
  }
  const zip = resolve(s.dir, 'bundle', `ride-cdc-${imp.resource}s.zip`);
  await run(venvBin(s, 'python'), ['-m', 'zipfile', '-c', zip, BUNDLE_ROOT], { cwd: dir });
  return readFile(zip);
}

/** Imports (or re-imports, matched by uuid, overwriting) the ride-cdc bundle with reporting_db's password. */
export async function importBundle(s: SupersetSettings, log: (l: string) => void): Promise<void> {
  const { target, password, note } = await reportingLogin(s);
  log(`reporting_db: ${note}`);
  const api = new SupersetApi(supersetUrl(s));
  // The environment names the admin: when its password changed since the last start, sync it.
  await api.login(s.admin.username, s.admin.password).catch(async () => {
    await syncAdmin(s);
    await api.login(s.admin.username, s.admin.password);
  });
  for (const imp of IMPORTS)
    await api.importBundle(imp.resource, await bundleZip(s, target, imp), { [DATABASE_FILE]: password });
}

export interface SupersetUpResult {
  installSeconds: number;
  installed: boolean;
  startSeconds: number;
  alreadyRunning: boolean;
}

/**
 * Installs (first time), configures, migrates the metadata store, syncs the admin from the
 * environment, starts gunicorn on 127.0.0.1:<port> and imports the bundle. Idempotent.
 */
export async function supersetUp(
  cfg: StackConfig,
  s: SupersetSettings,
  log: (l: string) => void,
): Promise<SupersetUpResult> {
  const inst = await ensureSuperset(s, log);
  const t0 = Date.now();
  await writeConfig(s);
  const rec = readPid(pidFile(cfg));
  const alreadyRunning = isOurs(rec);
  if (!alreadyRunning) {
    // db upgrade + init take minutes on a busy machine: once per venv build, not every start.
    const initMarker = resolve(s.home, '.initialized');
    const built = await readFile(resolve(s.venv, '.ride-cdc-installed'), 'utf8');
    if (!existsSync(initMarker) || (await readFile(initMarker, 'utf8')) !== built) {
      log('superset: migrating the metadata store (SQLite) and syncing roles');
      await cli(s, ['db', 'upgrade'], 600_000);
      await cli(s, ['init'], 600_000);
      await writeFile(initMarker, built);
    }
    await syncAdmin(s);
    const started = await startDetached({
      command: venvBin(s, 'gunicorn'),
      args: [
        '--bind',
        `127.0.0.1:${s.port}`,
        '--workers',
        '1',
        '--threads',
        '8',
        '--timeout',
        '120',
        '--limit-request-line',
        '0',
        '--limit-request-field_size',
        '0',
        'superset.app:create_app()',
      ],
      env: supersetEnv(s),
      cwd: s.home,
      logFile: supersetLog(cfg),
      pidFile: pidFile(cfg),
      match: 'superset.app:create_app',
    });
    await SupersetApi.waitHealthy(supersetUrl(s), s.startTimeoutMs, () => isOurs(started));
  } else {
    await SupersetApi.waitHealthy(supersetUrl(s), s.startTimeoutMs, () => isOurs(rec));
  }
  await importBundle(s, log);
  return {
    installSeconds: inst.seconds,
    installed: inst.installed,
    startSeconds: (Date.now() - t0) / 1000,
    alreadyRunning,
  };
}

/** The admin named in the environment exists and has the environment's password. */
async function syncAdmin(s: SupersetSettings): Promise<void> {
  const a = s.admin;
  const out = await cli(s, [
    'fab',
    'create-admin',
    '--username',
    a.username,
    '--firstname',
    'ride-cdc',
    '--lastname',
    'admin',
    '--email',
    a.email,
    '--password',
    a.password,
  ]);
  if (/already exist/i.test(out))
    await cli(s, ['fab', 'reset-password', '--username', a.username, '--password', a.password]);
}

export async function supersetDown(cfg: StackConfig): Promise<string> {
  const rec = readPid(pidFile(cfg));
  if (!rec) return 'not-running';
  const how = await stopGroup(rec, 'SIGTERM', 20_000);
  await removePid(pidFile(cfg));
  return how;
}

export function supersetRunning(cfg: StackConfig): boolean {
  return isOurs(readPid(pidFile(cfg)));
}
