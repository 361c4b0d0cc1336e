/**
 * compose one-shot: registers connectors/ride-hailing-postgres.json with Kafka Connect.
 *
 * Placeholders are filled from this process's environment by src/stack/connector-file.ts (the
 * same code as the native stack's registration); an unresolved one fails the job before anything
 * is sent.
 *
 * PUT /connectors/<name>/config creates or updates, so re-running is safe. The job then waits,
 * bounded by CONNECTOR_WAIT_SECONDS, for the connector and every task to be RUNNING.
 * Secured compose (docker-compose.secure.yml): CONNECT_USERNAME / CONNECT_PASSWORD log in to
 * Connect's REST API (the worker's capture watcher reads the same names), and with
 * CONNECTOR_SECRETS_FILE set the native stack's secret references (src/stack/connector-secrets.ts)
 * are laid over the config: Debezium logs in as CONNECTOR_DATABASE_USER, every password a
 * `${file:...}` reference Connect resolves, never sent in clear.
 * Runs with `node --import tsx` inside the ride-cdc image; only Node built-ins are used.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
// The one placeholder filler (the native stack uses it too). In compose this file is mounted at
// /app/compose/scripts inside the ride-cdc image, so the path resolves to the image's /app/src.
import { fillPlaceholders, toConnectorRequest } from '../../src/stack/connector-file.js';
import { connectorSecretRefs } from '../../src/stack/connector-secrets.js';

export { fillPlaceholders, toConnectorRequest };

/** The Authorization header for Connect REST, if a login is configured (both or neither). */
export function connectAuthHeaders(env: NodeJS.ProcessEnv): Record<string, string> {
  const { CONNECT_USERNAME: user, CONNECT_PASSWORD: password } = env;
  if (!user && !password) return {};
  if (!user || !password) throw new Error('CONNECT_USERNAME and CONNECT_PASSWORD must be set together');
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** The entries laid over the connector file's config (none unless CONNECTOR_SECRETS_FILE is set). */
export function securedConnectorConfig(env: NodeJS.ProcessEnv): Record<string, string> {
  const file = env.CONNECTOR_SECRETS_FILE;
  if (!file) return {};
  const user = env.CONNECTOR_DATABASE_USER;
  if (!user) throw new Error('CONNECTOR_SECRETS_FILE is set: CONNECTOR_DATABASE_USER is required');
  return connectorSecretRefs(file, user);
}

interface ConnectorStatus {
  connector?: { state?: string; trace?: string };
  tasks?: { id: number; state?: string; trace?: string }[];
}

async function main(): Promise<void> {
  const connectUrl = (process.env.CONNECT_URL ?? 'http://localhost:8083').replace(/\/$/, '');
  const file = process.env.CONNECTOR_FILE ?? 'connectors/ride-hailing-postgres.json';
  const waitSeconds = Number(process.env.CONNECTOR_WAIT_SECONDS ?? 180);

  const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const { value, missing } = fillPlaceholders(raw, process.env);
  if (missing.length > 0) {
    throw new Error(
      `${file}: no value for placeholder(s) ${missing.join(', ')}; set them in the connector-init environment`,
    );
  }
  const request = toConnectorRequest(value, file);
  const name = request.name;
  const config = { ...request.config, ...securedConnectorConfig(process.env) };
  const auth = connectAuthHeaders(process.env);
  if (typeof config['connector.class'] !== 'string')
    throw new Error(`${file}: config has no connector.class`);

  const put = await fetch(`${connectUrl}/connectors/${encodeURIComponent(name)}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...auth },
    body: JSON.stringify(config),
    signal: AbortSignal.timeout(30_000),
  });
  if (!put.ok) throw new Error(`PUT ${name}: HTTP ${put.status} ${await put.text()}`);
  console.log(`connector ${name}: ${put.status === 201 ? 'created' : 'updated'}`);

  const deadline = Date.now() + waitSeconds * 1000;
  let last = 'no status yet';
  while (Date.now() < deadline) {
    const res = await fetch(`${connectUrl}/connectors/${encodeURIComponent(name)}/status`, {
      headers: auth,
      signal: AbortSignal.timeout(10_000),
    }).catch((err: Error) => err);
    if (res instanceof Response && res.ok) {
      const s = (await res.json()) as ConnectorStatus;
      const tasks = s.tasks ?? [];
      const failed = [s.connector, ...tasks].find((x) => x?.state === 'FAILED');
      if (failed) throw new Error(`connector ${name} FAILED:\n${failed.trace ?? '(no trace)'}`);
      last = `connector ${s.connector?.state}, tasks [${tasks.map((t) => `${t.id}:${t.state}`).join(', ')}]`;
      if (s.connector?.state === 'RUNNING' && tasks.length > 0 && tasks.every((t) => t.state === 'RUNNING')) {
        console.log(`connector ${name}: ${last}`);
        return;
      }
    } else {
      last = res instanceof Response ? `HTTP ${res.status}` : res.message;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`connector ${name} not RUNNING after ${waitSeconds}s (${last})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    console.error(`register-connector: ${err.message}`);
    process.exit(1);
  });
}
