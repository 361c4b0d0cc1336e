import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { type StackConfig, paths } from './config.js';
import { writePrivateFile } from './private-file.js';
import { serviceAccount } from './user.js';

const run = promisify(execFile);

/**
 * TLS material of the secured stack, generated once per stack directory with openssl: a private CA
 * and one loopback server certificate (SAN IP:127.0.0.1, DNS:localhost; serverAuth + clientAuth,
 * so the Kafka broker also presents it to its own controller listener, which requires client certs).
 *
 *   conf/ca.crt            public: what clients trust (KAFKA_TLS_CA_FILE, ES_TLS_CA_FILE)
 *   conf/tls-ca/ca.key     the CA key: 0700 dir, the stack's own user only; never given to a service
 *   conf/tls/server.key    0700 dir owned by the service account; the key is PKCS#8, 0600
 *   conf/tls/server.crt
 *   conf/tls/server.pem    key + certificate chain in one file: Kafka's PEM keystore
 */
export interface TlsFiles {
  caCert: string;
  serverKey: string;
  serverCert: string;
  serverPem: string;
}

/** The certificate's subject: Kafka's principal for the controller connection (super user). */
export const SERVER_CERT_CN = 'ride-cdc-stack';

export function tlsFiles(cfg: StackConfig): TlsFiles {
  const p = paths(cfg);
  return {
    caCert: resolve(p.conf, 'ca.crt'),
    serverKey: resolve(p.conf, 'tls', 'server.key'),
    serverCert: resolve(p.conf, 'tls', 'server.crt'),
    serverPem: resolve(p.conf, 'tls', 'server.pem'),
  };
}

let inflight: Promise<TlsFiles> | undefined;
/** Idempotent; concurrent components of one `up` share one generation. */
export function ensureTls(cfg: StackConfig): Promise<TlsFiles> {
  inflight ??= generate(cfg).finally(() => {
    inflight = undefined;
  });
  return inflight;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr || e.message).slice(-500)}`);
  }
}

async function generate(cfg: StackConfig): Promise<TlsFiles> {
  const f = tlsFiles(cfg);
  const p = paths(cfg);
  const runAs = serviceAccount(cfg.serviceUser);
  const caDir = resolve(p.conf, 'tls-ca');
  const tlsDir = resolve(p.conf, 'tls');
  await mkdir(caDir, { recursive: true, mode: 0o700 });
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  // mkdir's mode is ignored for an existing directory: state it, no one else may enter either.
  await chmod(caDir, 0o700);
  await chmod(tlsDir, 0o700);
  const caKey = resolve(caDir, 'ca.key');
  if (!existsSync(caKey) || !existsSync(f.caCert)) {
    // Keys are written into the 0700 directories, so not even a moment's world-readable key.
    await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', caKey]);
    await openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      caKey,
      '-sha256',
      '-days',
      '825',
      '-subj',
      '/CN=ride-cdc stack CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      f.caCert,
    ]);
    await chmod(f.caCert, 0o644);
  }
  if (!existsSync(f.serverPem) || !existsSync(f.serverCert)) {
    const csr = resolve(tlsDir, 'server.csr');
    const ext = resolve(tlsDir, 'server.ext');
    await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f.serverKey]);
    await openssl(['req', '-new', '-key', f.serverKey, '-subj', `/CN=${SERVER_CERT_CN}`, '-out', csr]);
    await writeFile(
      ext,
      [
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        '',
      ].join('\n'),
    );
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      f.caCert,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-sha256',
      '-days',
      '825',
      '-extfile',
      ext,
      '-out',
      f.serverCert,
    ]);
    const pem = `${await readFile(f.serverKey, 'utf8')}${await readFile(f.serverCert, 'utf8')}${await readFile(f.caCert, 'utf8')}`;
    await writePrivateFile(f.serverPem, pem, runAs);
  }
  if (runAs) {
    await chown(tlsDir, runAs.uid, runAs.gid);
    for (const file of [f.serverKey, f.serverCert, f.serverPem]) await chown(file, runAs.uid, runAs.gid);
  }
  return f;
}
