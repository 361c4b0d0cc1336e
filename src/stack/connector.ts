import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectUrl } from './components/connect.js';
import {
  connectHeaders,
  connectorSecurityConfig,
  connectorSourceLogin,
} from './components/connect-security.js';
import { registryUrl } from './components/registry.js';
import type { StackConfig } from './config.js';
import { fillConnectorFile } from './connector-file.js';

/** Registers and inspects the Debezium connector through the Connect REST API (placeholders: connector-file.ts). */

export const DEFAULT_CONNECTOR_FILE = 'connectors/ride-hailing-postgres.json';

export interface ConnectorRequest {
  name: string;
  config: Record<string, string>;
}

/** The values the native stack knows; the process environment overrides them. */
export function stackConnectorEnv(
  cfg: StackConfig,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  return {
    SOURCE_PGHOST: '127.0.0.1',
    SOURCE_PGPORT: String(cfg.ports.sourcePg),
    SOURCE_PGDB: cfg.pg.sourceDb,
    // Secured: Debezium's own role, its password a reference Connect resolves (connect-security.ts).
    SOURCE_PGUSER: connectorSourceLogin(cfg).user,
    SOURCE_PGPASSWORD: connectorSourceLogin(cfg).password,
    // The Apicurio 3 converter talks the registry's native v3 API (the worker uses ccompat).
    APICURIO_REGISTRY_URL: `${registryUrl(cfg)}/apis/registry/v3`,
    ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
  };
}

/** Reads a connector file and fills its placeholders from `vars`; every value as Connect wants it (a string). */
export function loadConnector(file: string, vars: Record<string, string | undefined>): ConnectorRequest {
  const req = fillConnectorFile(JSON.parse(readFileSync(file, 'utf8')) as unknown, file, vars);
  return {
    name: req.name,
    config: Object.fromEntries(Object.entries(req.config).map(([k, v]) => [k, String(v)])),
  };
}

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id?: string; trace?: string };
  tasks: { id: number; state: string; worker_id?: string; trace?: string }[];
}

async function connectFetch(cfg: StackConfig, path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(`${connectUrl(cfg)}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', accept: 'application/json', ...connectHeaders(cfg) },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new Error(
      `Kafka Connect at ${connectUrl(cfg)} is not reachable (${(err as Error).message}); is the stack up?`,
    );
  }
}

export async function getConnectorStatus(
  cfg: StackConfig,
  name: string,
): Promise<ConnectorStatus | undefined> {
  const res = await connectFetch(cfg, `/connectors/${encodeURIComponent(name)}/status`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET status of ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as ConnectorStatus;
}

export function failedTrace(s: ConnectorStatus): string | undefined {
  if (s.connector.state === 'FAILED')
    return `connector ${s.name} FAILED:\n${s.connector.trace ?? '(no trace)'}`;
  const t = s.tasks.find((x) => x.state === 'FAILED');
  return t ? `task ${s.name}-${t.id} FAILED:\n${t.trace ?? '(no trace)'}` : undefined;
}

/**
 * PUT /connectors/<name>/config (creates or updates: idempotent), then waits until the connector
 * and at least one task are RUNNING. A FAILED task fails at once with its stack trace; any other
 * state past `waitMs` fails with the last status.
 */
export async function registerConnector(
  cfg: StackConfig,
  opts: { file?: string; waitMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ConnectorStatus> {
  const file = resolve(cfg.repoRoot, opts.file ?? DEFAULT_CONNECTOR_FILE);
  const req = loadConnector(file, stackConnectorEnv(cfg, opts.env));
  const res = await connectFetch(cfg, `/connectors/${encodeURIComponent(req.name)}/config`, {
    method: 'PUT',
    body: JSON.stringify({ ...req.config, ...connectorSecurityConfig(cfg) }),
  });
  if (!res.ok) throw new Error(`PUT config of ${req.name}: ${res.status} ${await res.text()}`);
  // A task that failed earlier (say the registry was down) stays FAILED until restarted; an
  // unchanged config does not restart it. One restart, then a new failure is reported as such.
  const now = await getConnectorStatus(cfg, req.name);
  const restarted = !!(now && failedTrace(now));
  if (restarted) await restartConnector(cfg, req.name);
  return waitRunning(cfg, req.name, opts.waitMs ?? 120_000, restarted ? 15_000 : 0);
}

/** Restarts the connector and its failed tasks (Connect ≥ 3.0 REST API). */
export async function restartConnector(cfg: StackConfig, name: string): Promise<void> {
  const res = await connectFetch(
    cfg,
    `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`,
    {
      method: 'POST',
    },
  );
  if (!res.ok && res.status !== 202 && res.status !== 204)
    throw new Error(`restart ${name}: ${res.status} ${await res.text()}`);
}

/**
 * `failedGraceMs`: right after a restart the REST status still shows the old FAILED state for a
 * moment (the restart is asynchronous); only a FAILED seen after the grace period counts.
 */
export async function waitRunning(
  cfg: StackConfig,
  name: string,
  waitMs: number,
  failedGraceMs = 0,
): Promise<ConnectorStatus> {
  const start = Date.now();
  const deadline = start + waitMs;
  let last: ConnectorStatus | undefined;
  while (Date.now() < deadline) {
    last = await getConnectorStatus(cfg, name);
    if (last) {
      const failed = failedTrace(last);
      if (failed && Date.now() - start >= failedGraceMs) throw new Error(failed);
      if (
        last.connector.state === 'RUNNING' &&
        last.tasks.length > 0 &&
        last.tasks.every((t) => t.state === 'RUNNING')
      ) {
        return last;
      }
    }
    await sleep(500);
  }
  throw new Error(`connector ${name} not RUNNING after ${waitMs} ms; last status: ${JSON.stringify(last)}`);
}

export async function deleteConnector(cfg: StackConfig, name: string): Promise<boolean> {
  const res = await connectFetch(cfg, `/connectors/${encodeURIComponent(name)}`, { method: 'DELETE' });
  if (res.status === 404) return false;
  if (!res.ok) throw new Error(`DELETE ${name}: ${res.status} ${await res.text()}`);
  return true;
}

export function connectorNameFromFile(cfg: StackConfig, file = DEFAULT_CONNECTOR_FILE): string {
  return loadConnector(resolve(cfg.repoRoot, file), stackConnectorEnv(cfg)).name;
}
