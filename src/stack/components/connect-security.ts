import { resolve } from 'node:path';
import { type StackConfig, paths } from '../config.js';
import { writePrivateFile } from '../private-file.js';
import type { Principal } from '../security.js';
import type { RunAs } from '../user.js';
import { connectUrl } from './connect.js';
import { connectKafkaSettings } from './kafka-security.js';
import { connectorSecretRefs } from '../connector-secrets.js';

/**
 * Kafka Connect in the secured stack: SASL_SSL to Kafka as principal `connect`, its REST API
 * behind Kafka's BasicAuthSecurityRestExtension (org.apache.kafka:connect-basic-auth-extension, a
 * JAAS PropertyFileLoginModule over a private users file), still bound to 127.0.0.1. Connector
 * secrets (the registry password of the Avro converter, the password of Debezium's own PostgreSQL
 * role) are `${file:...}` references resolved by FileConfigProvider inside Connect, so neither the
 * config topic nor GET /connectors shows them.
 */

function files(cfg: StackConfig) {
  const dir = resolve(paths(cfg).conf, 'connect');
  return {
    jaas: resolve(dir, 'rest-jaas.conf'),
    users: resolve(dir, 'rest-users.properties'),
    secrets: resolve(dir, 'connector-secrets.properties'),
  };
}

export const REST_EXTENSION =
  'org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension';

/** Extra connect-distributed.properties entries; the open stack gets none. */
export function connectSecuritySettings(cfg: StackConfig): Record<string, string> {
  if (!cfg.security) return {};
  return {
    ...connectKafkaSettings(cfg),
    'rest.extension.classes': REST_EXTENSION,
    'config.providers': 'env,file',
    'config.providers.file.class': 'org.apache.kafka.common.config.provider.FileConfigProvider',
  };
}

/** Kafka's PropertyFileLoginModule users file: one `user: password` line. */
export const connectRestUsers = (p: Principal): string => `${p.user}: ${p.password}\n`;

/** The JAAS entry BasicAuthSecurityRestExtension reads (`KafkaConnect`), over `usersFile`. */
export const connectRestJaas = (usersFile: string): string =>
  `KafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file="${usersFile}";\n};\n`;

/** What `${file:...}` references in connector configs resolve to (connectorSecurityConfig). */
export const connectorSecrets = (registry: Principal, debeziumPgPassword: string): string =>
  [
    `registry.username=${registry.user}`,
    `registry.password=${registry.password}`,
    `source.password=${debeziumPgPassword}`,
    '',
  ].join('\n');

/** Writes the REST users file, its JAAS entry and the connector secrets, all private. */
export async function writeConnectSecrets(cfg: StackConfig, runAs?: RunAs): Promise<void> {
  const sec = cfg.security;
  if (!sec) return;
  const f = files(cfg);
  await writePrivateFile(f.users, connectRestUsers(sec.connectRest), runAs);
  await writePrivateFile(f.jaas, connectRestJaas(f.users), runAs);
  await writePrivateFile(f.secrets, connectorSecrets(sec.registry.connect, sec.pg.debezium.password), runAs);
}

/** JVM options Connect starts with (the JAAS file the REST extension reads). */
export function connectJvmSecurityArgs(cfg: StackConfig): string[] {
  return cfg.security ? [`-Djava.security.auth.login.config=${files(cfg).jaas}`] : [];
}

/** The classpath entry holding the REST extension (its own Maven bundle, see artifacts.ts). */
export function connectExtraClasspath(cfg: StackConfig): string[] {
  return cfg.security ? [`${resolve(paths(cfg).dist, 'connect-rest-auth', 'libs')}/*`] : [];
}

/** Authorization header for the Connect REST API (as `principal`, default the stack's REST user). */
export function connectHeaders(cfg: StackConfig, principal?: Principal): Record<string, string> {
  const p = principal ?? cfg.security?.connectRest;
  return p ? { authorization: `Basic ${Buffer.from(`${p.user}:${p.password}`).toString('base64')}` } : {};
}

/**
 * The PostgreSQL login Debezium uses. Secured: its own least-privilege role, the password a
 * `${file:...}` reference (resolved inside Connect, never sent or stored in clear). Open stack:
 * the superuser, whose development password is no secret.
 */
export function connectorSourceLogin(cfg: StackConfig): { user: string; password: string } {
  const sec = cfg.security;
  if (!sec) return { user: cfg.pg.user, password: cfg.pg.password };
  const refs = connectorSecurityConfig(cfg);
  return { user: refs['database.user']!, password: refs['database.password']! };
}

/** connectorSecretRefs for the native secured stack; nothing on the open stack. */
export function connectorSecurityConfig(cfg: StackConfig): Record<string, string> {
  const sec = cfg.security;
  return sec ? connectorSecretRefs(files(cfg).secrets, sec.pg.debezium.user) : {};
}

/** The worker's capture-watcher settings for this stack (src/config/worker-config.ts names). */
export function workerConnectEnv(cfg: StackConfig, connector: string): Record<string, string> {
  const rest = cfg.security?.connectRest;
  return {
    CONNECT_URL: connectUrl(cfg),
    CONNECTOR_NAME: connector,
    ...(rest ? { CONNECT_USERNAME: rest.user, CONNECT_PASSWORD: rest.password } : {}),
  };
}
