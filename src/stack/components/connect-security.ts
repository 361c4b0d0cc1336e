import { resolve } from 'node:path';
import { type StackConfig, paths } from '../config.js';
import { writePrivateFile } from '../private-file.js';
import type { Principal } from '../security.js';
import type { RunAs } from '../user.js';
import { connectKafkaSettings } from './kafka-security.js';

/**
 * Kafka Connect in the secured stack: SASL_SSL to Kafka as principal `connect`, its REST API
 * behind Kafka's BasicAuthSecurityRestExtension (org.apache.kafka:connect-basic-auth-extension, a
 * JAAS PropertyFileLoginModule over a private users file), still bound to 127.0.0.1. Connector
 * secrets (the registry password of the Avro converter) are `${file:...}` references resolved by
 * FileConfigProvider inside Connect, so neither the config topic nor GET /connectors shows them.
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

/** Writes the REST users file, its JAAS entry and the connector secrets, all private. */
export async function writeConnectSecrets(cfg: StackConfig, runAs?: RunAs): Promise<void> {
  const sec = cfg.security;
  if (!sec) return;
  const f = files(cfg);
  await writePrivateFile(f.users, `${sec.connectRest.user}: ${sec.connectRest.password}\n`, runAs);
  await writePrivateFile(
    f.jaas,
    `KafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file="${f.users}";\n};\n`,
    runAs,
  );
  await writePrivateFile(
    f.secrets,
    `registry.username=${sec.registry.connect.user}\nregistry.password=${sec.registry.connect.password}\n`,
    runAs,
  );
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

/** Connector config entries that let the Apicurio converters log in to the registry. */
export function connectorSecurityConfig(cfg: StackConfig): Record<string, string> {
  if (!cfg.security) return {};
  const secrets = files(cfg).secrets;
  return Object.fromEntries(
    ['key.converter', 'value.converter'].flatMap((c) => [
      [`${c}.apicurio.registry.auth.username`, `\${file:${secrets}:registry.username}`],
      [`${c}.apicurio.registry.auth.password`, `\${file:${secrets}:registry.password}`],
    ]),
  );
}
