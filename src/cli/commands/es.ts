import type { Command } from 'commander';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { createEsClient } from '../../sink/elasticsearch/client.js';
import { setupIndices } from '../../sink/elasticsearch/setup.js';

export function register(program: Command): void {
  const es = program.command('es').description('Elasticsearch index management');
  es.command('setup')
    .description('Apply the index templates and mappings in mappings/ (idempotent)')
    .action(async () => {
      const cfg = loadWorkerConfig();
      const client = createEsClient(cfg.elasticsearch);
      try {
        for (const name of await setupIndices(client, cfg.elasticsearch.indexPrefix))
          process.stdout.write(`applied ${name}\n`);
      } finally {
        await client.close();
      }
    });
}
