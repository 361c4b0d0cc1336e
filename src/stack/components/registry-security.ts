import { resolve } from 'node:path';
import { type StackConfig, paths } from '../config.js';
import { writePrivateFile } from '../private-file.js';
import type { Principal } from '../security.js';
import type { RunAs } from '../user.js';

/**
 * Apicurio Registry 3.3 in the secured stack: HTTP basic auth against Quarkus' embedded
 * (properties-file) identity store, which the registry app is built with
 * (quarkus.security.users.embedded.enabled=true is fixed at its build time), plus Apicurio's
 * role-based authorization on the roles of that store. No OIDC server is involved: Apicurio's own
 * `apicurio.authn.basic-client-credentials.*` would exchange the credentials for a token at an
 * OIDC token endpoint, which this setup does not use. Every API path requires a login; the
 * management interface (health, on its own loopback port) does not.
 *
 * Users: registry-admin (sr-admin: the stack and tests, e.g. deleting subjects), connect
 * (sr-developer: the Avro converter registers schemas), ride-cdc-worker (sr-readonly).
 */
export function registrySecurityFile(cfg: StackConfig): string {
  return resolve(paths(cfg).conf, 'registry', 'security.properties');
}

/**
 * The registry's security settings for three logins (Quarkus properties). The native secured
 * stack writes them with its passwords; compose/registry/security.properties is this with
 * `${STACK_REGISTRY_*_PASSWORD}` expressions instead, which Quarkus resolves from the container's
 * environment (tests/unit/compose-secure.test.ts keeps the two identical).
 */
export function registrySecurityProperties(users: {
  admin: Principal;
  connect: Principal;
  worker: Principal;
}): Record<string, string> {
  const roles: [Principal, string][] = [
    [users.admin, 'sr-admin'],
    [users.connect, 'sr-developer'],
    [users.worker, 'sr-readonly'],
  ];
  return {
    // Build-time fixed in the app (Quarkus warns so), yet Apicurio's AppAuthenticationMechanism
    // reads it at run time to put basic auth into its chain: without it every request is a 401.
    'quarkus.http.auth.basic': 'true',
    'quarkus.security.users.embedded.enabled': 'true',
    'quarkus.security.users.embedded.plain-text': 'true',
    ...Object.fromEntries(
      roles.flatMap(([p, role]) => [
        [`quarkus.security.users.embedded.users.${p.user}`, p.password],
        [`quarkus.security.users.embedded.roles.${p.user}`, role],
      ]),
    ),
    'apicurio.auth.role-based-authorization': 'true',
    'apicurio.auth.role-source': 'token',
    'quarkus.http.auth.permission.apis.paths': '/apis/*',
    'quarkus.http.auth.permission.apis.policy': 'authenticated',
  };
}

export const propertiesText = (props: Record<string, string>): string =>
  `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;

export async function writeRegistrySecurity(cfg: StackConfig, runAs?: RunAs): Promise<void> {
  const sec = cfg.security;
  if (!sec) return;
  await writePrivateFile(
    registrySecurityFile(cfg),
    propertiesText(registrySecurityProperties(sec.registry)),
    runAs,
  );
}

/** System properties that point the registry at the file (a path: no secret on the command line). */
export function registrySecurityArgs(cfg: StackConfig): Record<string, string> {
  return cfg.security ? { 'quarkus.config.locations': registrySecurityFile(cfg) } : {};
}

export function registryHeaders(cfg: StackConfig, principal?: Principal): Record<string, string> {
  const p = principal ?? cfg.security?.registry.admin;
  return p ? { authorization: `Basic ${Buffer.from(`${p.user}:${p.password}`).toString('base64')}` } : {};
}

/** The worker's registry login as its environment variables (src/config/worker-config.ts). */
export function workerRegistryEnv(cfg: StackConfig): Record<string, string> {
  const sec = cfg.security;
  if (!sec) return {};
  return {
    SCHEMA_REGISTRY_USERNAME: sec.registry.worker.user,
    SCHEMA_REGISTRY_PASSWORD: sec.registry.worker.password,
  };
}
