/**
 * Writes the committed copy of the Superset bundle, superset/bundle/ (for a default local
 * reporting_db; `ride-cdc superset up` builds and imports its own for the configured one):
 *
 *   npx tsx src/superset/write-bundle.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_ROOT, buildBundle, type DatabaseTarget } from './bundle.js';

export const COMMITTED_BUNDLE_DIR = resolve(import.meta.dirname, '../../superset/bundle');
export const DEFAULT_TARGET: DatabaseTarget = {
  host: '127.0.0.1',
  port: 5433,
  database: 'reporting_db',
  user: 'user',
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  rmSync(COMMITTED_BUNDLE_DIR, { recursive: true, force: true });
  const files = buildBundle(DEFAULT_TARGET);
  for (const [path, text] of files) {
    const file = join(COMMITTED_BUNDLE_DIR, BUNDLE_ROOT, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  console.log(`wrote ${files.size} files under ${COMMITTED_BUNDLE_DIR}`);
}
