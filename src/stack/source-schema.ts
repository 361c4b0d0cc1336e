import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { StackConfig } from './config.js';
import { pgClient } from './components/postgres.js';

/**
 * Applies mart-sql/source/*.sql to ride_hailing_db in file-name order. The files are written to be
 * re-runnable (IF NOT EXISTS, duplicate_object guards), so every `up` applies them all; one
 * advisory lock keeps two concurrent `up`s from interleaving. Deliberately tiny: it goes away when
 * the migration runner in src/db/ takes over.
 */
export async function applySourceSchema(cfg: StackConfig, port: number, db: string): Promise<string[]> {
  const dir = resolve(cfg.repoRoot, 'mart-sql', 'source');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const c = pgClient(cfg, port, db);
  await c.connect();
  try {
    await c.query('SELECT pg_advisory_lock(4242001)');
    for (const f of files) {
      try {
        await c.query(await readFile(resolve(dir, f), 'utf8'));
      } catch (err) {
        throw new Error(`applying ${dir}/${f} to ${db}: ${(err as Error).message}`);
      }
    }
    return files;
  } finally {
    await c.end();
  }
}
