import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SupersetSettings } from './settings.js';

export const configPath = (s: SupersetSettings) => resolve(s.home, 'superset_config.py');

/**
 * superset_config.py for a single-node Superset without Redis or Celery: SQLite metadata in the
 * stack directory, SimpleCache, in-memory rate limits, no results backend (no async queries), and
 * a SECRET_KEY generated once and kept (it encrypts the stored database password).
 */
export function renderConfig(s: SupersetSettings, secretKey: string): string {
  const py = (v: string) => JSON.stringify(v); // a JSON string literal is a valid Python literal
  return `# Written by ride-cdc (src/superset/config-file.ts) on every \`ride-cdc superset up\`; edits are lost.
SECRET_KEY = ${py(secretKey)}
SQLALCHEMY_DATABASE_URI = ${py(`sqlite:///${resolve(s.home, 'superset.db')}`)}
# Single process: caches in process memory, rate limits in memory, no async query results backend.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 60}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 30}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
RATELIMIT_STORAGE_URI = "memory://"
RESULTS_BACKEND = None
# Every chart of a dashboard renders at load (no virtualization), so one screen shows its state.
FEATURE_FLAGS = {"GLOBAL_ASYNC_QUERIES": False, "DASHBOARD_VIRTUALIZATION": False}
# Loopback only and plain HTTP: no HTTPS redirect, session cookie without the Secure flag.
TALISMAN_ENABLED = False
SESSION_COOKIE_SECURE = False
WTF_CSRF_ENABLED = True
SUPERSET_WEBSERVER_TIMEOUT = 120
ROW_LIMIT = 50000
`;
}

export async function writeConfig(s: SupersetSettings): Promise<string> {
  await mkdir(s.home, { recursive: true });
  const keyFile = resolve(s.home, 'secret_key');
  if (!existsSync(keyFile)) await writeFile(keyFile, randomBytes(42).toString('base64'), { mode: 0o600 });
  const key = (await readFile(keyFile, 'utf8')).trim();
  const path = configPath(s);
  await writeFile(path, renderConfig(s, key), { mode: 0o600 });
  return path;
}
