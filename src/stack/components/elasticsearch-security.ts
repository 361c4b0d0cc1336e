import { execFile } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { resolve } from 'node:path';
import { loadMappings } from '../../sink/elasticsearch/setup.js';
import type { StackConfig } from '../config.js';
import { writePrivateFile } from '../private-file.js';
import { ensureTls, tlsFiles } from '../tls.js';
import { type RunAs, chownTree } from '../user.js';

/**
 * Elasticsearch in the secured stack. The integ-test-zip distribution the stack runs does carry
 * the x-pack-core and x-pack-security modules (basic licence), so this is real security, the same
 * as the official distribution's: HTTPS (and TLS on the loopback transport) with the stack's
 * certificate, the `elastic` superuser's password bootstrapped through the keystore (read from
 * stdin, never a command-line argument), and a file-realm user for the worker whose role reaches
 * only the ride-cdc index families and index templates.
 */

export function esCertsDir(home: string): string {
  return resolve(home, 'config', 'certs');
}

/** elasticsearch.yml entries for the secured mode (relative paths resolve against config/). */
export function esSecuritySettings(cfg: StackConfig): Record<string, string | number | boolean> {
  if (!cfg.security) return { 'xpack.security.enabled': false };
  const tls = {
    key: 'certs/server.key',
    certificate: 'certs/server.crt',
    certificate_authorities: 'certs/ca.crt',
  };
  return {
    'xpack.security.enabled': true,
    'xpack.security.enrollment.enabled': false,
    'xpack.security.http.ssl.enabled': true,
    ...Object.fromEntries(Object.entries(tls).map(([k, v]) => [`xpack.security.http.ssl.${k}`, v])),
    'xpack.security.transport.ssl.enabled': true,
    'xpack.security.transport.ssl.verification_mode': 'certificate',
    ...Object.fromEntries(Object.entries(tls).map(([k, v]) => [`xpack.security.transport.ssl.${k}`, v])),
  };
}

/**
 * Certificates into config/certs (ES reads TLS files only from its config directory) and a fresh
 * keystore holding bootstrap.password. Runs before every start, so a changed STACK_ES_PASSWORD
 * takes effect for a new data directory (afterwards the password lives in the .security index).
 */
export async function prepareEsSecurity(
  cfg: StackConfig,
  home: string,
  env: NodeJS.ProcessEnv,
  runAs?: RunAs,
): Promise<void> {
  const sec = cfg.security;
  if (!sec) return;
  const tls = await ensureTls(cfg);
  const dir = esCertsDir(home);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o750 });
  await writePrivateFile(resolve(dir, 'server.key'), readFileSync(tls.serverKey, 'utf8'), runAs);
  await copyFile(tls.serverCert, resolve(dir, 'server.crt'));
  await copyFile(tls.caCert, resolve(dir, 'ca.crt'));
  chownTree(dir, runAs);
  await writeFileRealm(cfg, home, runAs);
  const tool = resolve(home, 'bin', 'elasticsearch-keystore');
  const opts = { env, timeout: 120_000, ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) };
  await rm(resolve(home, 'config', 'elasticsearch.keystore'), { force: true });
  await new Promise<void>((res, rej) => {
    const child = execFile(tool, ['create'], opts, (err, _o, stderr) =>
      err ? rej(new Error(`elasticsearch-keystore create failed: ${stderr || err.message}`)) : res(),
    );
    child.stdin?.end();
  });
  await new Promise<void>((res, rej) => {
    const child = execFile(tool, ['add', '-x', '-f', 'bootstrap.password'], opts, (err, _o, stderr) =>
      err ? rej(new Error(`elasticsearch-keystore add failed: ${stderr || err.message}`)) : res(),
    );
    child.stdin?.end(sec.es.admin.password);
  });
}

/**
 * The worker's role: its index families (any ES_INDEX_PREFIX) and their templates, nothing else.
 * The families are the ones mappings/ defines, so an index added there is granted here too (the KPI
 * mirror and the pipeline snapshots were not, and the secured worker was denied at start).
 */
export const ES_WORKER_ROLE = 'ride_cdc_worker';
/** The role as Elasticsearch's role API takes it; compose/elastic/worker-role.json is this, written out. */
export function esWorkerRole(): { cluster: string[]; indices: { names: string[]; privileges: string[] }[] } {
  return {
    cluster: ['manage_index_templates', 'monitor'],
    indices: [
      {
        names: loadMappings('').map((m) => `*${m.name}*`),
        privileges: ['read', 'write', 'create_index', 'view_index_metadata', 'manage'],
      },
    ],
  };
}
export function esRolesYml(): string {
  const role = esWorkerRole();
  const list = (xs: string[], quote = false) => `[${xs.map((x) => (quote ? `'${x}'` : x)).join(', ')}]`;
  return `# Written by src/stack/components/elasticsearch-security.ts before every start.
${ES_WORKER_ROLE}:
  cluster: ${list(role.cluster)}
  indices:
${role.indices
  .map(
    (i) => `    - names: ${list(i.names, true)}
      privileges: ${list(i.privileges)}
`,
  )
  .join('')}`;
}

/**
 * An Elasticsearch file-realm password hash ({PBKDF2}: PBKDF2-HMAC-SHA512, 256-bit key, 32-byte
 * salt, the format of its Hasher.PBKDF2). Computed here so no tool gets the password as an argument.
 */
export function esPbkdf2Hash(password: string, cost = 10_000, salt = randomBytes(32)): string {
  const key = pbkdf2Sync(password, salt, cost, 32, 'sha512');
  return `{PBKDF2}${cost}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * The worker's user lives in the file realm (config/users, users_roles, roles.yml): the native
 * realm needs the .security system index, whose mapping uses the analysis-common module's
 * pattern_capture filter, which the integ-test-zip does not ship (creating the index fails with
 * "Unknown filter type [pattern_capture]"). `elastic` is the reserved realm's, from the keystore.
 */
async function writeFileRealm(cfg: StackConfig, home: string, runAs?: RunAs): Promise<void> {
  const sec = cfg.security;
  if (!sec) return;
  const conf = resolve(home, 'config');
  await writePrivateFile(
    resolve(conf, 'users'),
    `${sec.es.worker.user}:${esPbkdf2Hash(sec.es.worker.password)}\n`,
    runAs,
  );
  await writePrivateFile(resolve(conf, 'users_roles'), `${ES_WORKER_ROLE}:${sec.es.worker.user}\n`, runAs);
  await writePrivateFile(resolve(conf, 'roles.yml'), esRolesYml(), runAs);
}

/** After the node is healthy: the worker can log in (a wrong hash format would fail only later). */
export async function provisionEs(cfg: StackConfig): Promise<void> {
  if (!cfg.security) return;
  await esRequest(cfg, 'GET', '/_security/_authenticate', undefined, 'worker').catch((err: Error) => {
    throw new Error(`the worker's Elasticsearch user cannot log in: ${err.message}`);
  });
}

export interface EsAccess {
  node: string;
  auth?: { username: string; password: string };
  caFile?: string;
}

/** How a stack client reaches Elasticsearch (as the superuser unless told otherwise). */
export function esAccess(cfg: StackConfig, as: 'admin' | 'worker' = 'admin'): EsAccess {
  const sec = cfg.security;
  if (!sec) return { node: `http://127.0.0.1:${cfg.ports.es}` };
  const p = sec.es[as];
  return {
    node: `https://127.0.0.1:${cfg.ports.es}`,
    auth: { username: p.user, password: p.password },
    caFile: tlsFiles(cfg).caCert,
  };
}

export function workerEsEnv(cfg: StackConfig): Record<string, string> {
  const a = esAccess(cfg, 'worker');
  if (!a.auth) return {};
  return {
    ES_NODE: a.node,
    ES_USERNAME: a.auth.username,
    ES_PASSWORD: a.auth.password,
    ES_TLS_CA_FILE: a.caFile ?? '',
  };
}

/** One request with the stack's CA and credentials; throws on a non-2xx answer. */
export function esRequest(
  cfg: StackConfig,
  method: string,
  path: string,
  body?: unknown,
  as: 'admin' | 'worker' = 'admin',
  timeoutMs = 5000,
): Promise<string> {
  const a = esAccess(cfg, as);
  const url = new URL(path, a.node);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((res, rej) => {
    const req = request(
      url,
      {
        method,
        ca: a.caFile ? readFileSync(a.caFile) : undefined,
        auth: a.auth ? `${a.auth.username}:${a.auth.password}` : undefined,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        timeout: timeoutMs,
      },
      (r) => {
        let out = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => {
          out += d;
        });
        r.on('end', () =>
          (r.statusCode ?? 0) >= 200 && (r.statusCode ?? 0) < 300
            ? res(out)
            : rej(new Error(`${method} ${url.pathname} → ${r.statusCode} ${out.slice(0, 200)}`)),
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${url.pathname}: timed out after ${timeoutMs} ms`)),
    );
    req.on('error', rej);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
