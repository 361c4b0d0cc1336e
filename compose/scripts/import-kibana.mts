/**
 * compose one-shot: imports every kibana/*.ndjson (sorted by name, so index patterns/data views
 * can come before the dashboards that use them) through Kibana's saved objects API with
 * overwrite=true, so re-running converges instead of duplicating. No files → nothing to do.
 * Runs with `node --import tsx` inside the ride-cdc image; only Node built-ins are used.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The files to import, in import order. */
export function ndjsonFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.ndjson')).sort();
}

interface ImportResult {
  success?: boolean;
  successCount?: number;
  errors?: { id: string; type: string; error: { type: string; message?: string } }[];
}

async function main(): Promise<void> {
  const url = (process.env.KIBANA_URL ?? 'http://localhost:5601').replace(/\/$/, '');
  const dir = process.env.KIBANA_DIR ?? 'kibana';
  const auth = Buffer.from(
    `${process.env.KIBANA_USERNAME ?? 'elastic'}:${process.env.KIBANA_PASSWORD ?? ''}`,
  ).toString('base64');

  const files = ndjsonFiles(dir);
  if (files.length === 0) {
    console.log(`kibana-import: no *.ndjson in ${dir}, nothing to import`);
    return;
  }
  let failed = 0;
  for (const name of files) {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(join(dir, name))], { type: 'application/ndjson' }), name);
    const res = await fetch(`${url}/api/saved_objects/_import?overwrite=true`, {
      method: 'POST',
      headers: { 'kbn-xsrf': 'ride-cdc', authorization: `Basic ${auth}` },
      body: form,
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await res.json().catch(() => ({}))) as ImportResult;
    if (!res.ok || body.success === false) {
      failed++;
      const detail = (body.errors ?? [])
        .map((e) => `${e.type}/${e.id}: ${e.error.type} ${e.error.message ?? ''}`)
        .join('; ');
      console.error(`kibana-import: ${name}: HTTP ${res.status} ${detail || JSON.stringify(body)}`);
    } else {
      console.log(`kibana-import: ${name}: ${body.successCount ?? 0} objects`);
    }
  }
  if (failed > 0) throw new Error(`${failed} of ${files.length} file(s) failed`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    console.error(`kibana-import: ${err.message}`);
    process.exit(1);
  });
}
