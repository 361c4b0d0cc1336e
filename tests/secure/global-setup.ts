/**
 * vitest globalSetup for the `secure` project: its own secured native stack (STACK_SECURE=true)
 * on ports +200 of the defaults and its own STACK_DIR, so it never meets the open stack the
 * `integration` project uses. Secrets: the caller's STACK_*_PASSWORD variables, else random ones
 * generated once per stack directory and kept there in a 0600 file (a kept stack's Kafka SCRAM
 * credentials are fixed at format time, so a second run must reuse them).
 *
 * Teardown stops the stack if this run started it (RIDE_CDC_KEEP_STACK=1 keeps it).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writePrivateFile } from '../../src/stack/private-file.js';
import { SECRET_VARIABLES } from '../../src/stack/security.js';
import { down, isUp, loadStackConfig, up } from '../../src/stack/index.js';

const REPO = resolve(import.meta.dirname, '../..');

/** Ports of the secured test stack: the defaults + 200 (STACK_SECURE_PORT_OFFSET overrides). */
export function secureStackEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const off = Number(env.STACK_SECURE_PORT_OFFSET ?? 200);
  return {
    STACK_SECURE: 'true',
    STACK_DIR: env.SECURE_STACK_DIR ?? resolve(REPO, '.stack-secure'),
    SOURCE_PGPORT: String(5432 + off),
    REPORTING_PGPORT: String(5433 + off),
    KAFKA_PORT: String(9092 + off),
    KAFKA_CONTROLLER_PORT: String(9093 + off),
    REGISTRY_PORT: String(18081 + off),
    CONNECT_PORT: String(8083 + off),
    ES_PORT: String(9200 + off),
  };
}

async function secrets(stackDir: string): Promise<Record<string, string>> {
  const file = resolve(stackDir, 'test-secrets.env');
  const kept: Record<string, string> = {};
  if (existsSync(file))
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) kept[line.slice(0, i)] = line.slice(i + 1);
    }
  const out: Record<string, string> = {};
  for (const [name] of SECRET_VARIABLES)
    out[name] = process.env[name] ?? kept[name] ?? randomBytes(18).toString('base64url');
  await mkdir(stackDir, { recursive: true });
  await writePrivateFile(
    file,
    `${Object.entries(out)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return out;
}

export default async function setup(): Promise<() => Promise<void>> {
  const base = secureStackEnv();
  Object.assign(process.env, base, await secrets(base.STACK_DIR!));
  // Test files load the same configuration from this environment (one reader: loadStackConfig).
  const cfg = loadStackConfig();
  const wasUp = await isUp(cfg);
  const t0 = Date.now();
  const log = (l: string) => process.stderr.write(`[secure stack] ${l}\n`);
  const results = await up({ cfg, log });
  const startedHere = results.some((r) => r.action === 'started');
  log(
    `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${startedHere ? 'started by this run' : 'reused'})`,
  );
  return async () => {
    if (wasUp || !startedHere || process.env.RIDE_CDC_KEEP_STACK === '1') {
      log('leaving the secured stack running');
      return;
    }
    await down({ cfg, log });
  };
}
