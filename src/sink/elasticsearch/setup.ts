import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';

const MAPPINGS_DIR = join(import.meta.dirname, '../../../mappings');

interface MappingFile {
  kind: 'index' | 'index_template';
  name: string;
  body: Record<string, unknown>;
}

export function loadMappings(prefix: string, dir = MAPPINGS_DIR): MappingFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map(
      (f) => JSON.parse(readFileSync(join(dir, f), 'utf8').replaceAll('{{prefix}}', prefix)) as MappingFile,
    );
}

/**
 * Applies mappings/ idempotently: templates are PUT (replace), the latest-state index is created
 * once and its mapping updated in place (additive changes only, as Elasticsearch allows).
 */
export async function setupIndices(es: Client, prefix: string): Promise<string[]> {
  const applied: string[] = [];
  for (const m of loadMappings(prefix)) {
    if (m.kind === 'index_template') {
      await es.indices.putIndexTemplate({ name: m.name, ...(m.body as object) });
    } else if (await es.indices.exists({ index: m.name })) {
      const mappings = m.body.mappings as Record<string, unknown>;
      await es.indices.putMapping({ index: m.name, ...mappings });
    } else {
      try {
        await es.indices.create({ index: m.name, ...(m.body as object) });
      } catch (err) {
        // Another worker instance created it between our check and create.
        if (!/resource_already_exists_exception/.test(String((err as Error).message))) throw err;
      }
    }
    applied.push(`${m.kind}:${m.name}`);
  }
  return applied;
}
