import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { loadWorkerConfig, topicFor } from '../../config/worker-config.js';
import { Decoder, anyDebeziumTable } from '../../decode/decoder.js';
import { RegistrySchemaSource } from '../../decode/schema-source.js';
import { eventToJson } from '../../decode/to-json.js';
import { createKafka } from '../../source/kafka-client.js';
import { createLogger } from '../../observe/logger.js';
import { errorMessage } from '../../shared/errors.js';

export function register(program: Command): void {
  program
    .command('tail')
    .description(
      'Print decoded, normalised change events of any Debezium topic as JSON lines (kcat, but decoded through the registry)',
    )
    .requiredOption(
      '--topic <topic>',
      'any topic name, or a table name (expanded to <prefix>.public.<table>)',
    )
    .option('--from-beginning', 'start at the earliest offset instead of the end', false)
    .option('--max <n>', 'stop after n messages', (v) => Number.parseInt(v, 10))
    .action(async (opts: { topic: string; fromBeginning: boolean; max?: number }) => {
      const cfg = loadWorkerConfig();
      const logger = createLogger('warn');
      const topic = opts.topic.includes('.') ? opts.topic : topicFor(cfg.kafka.topicPrefix, opts.topic);
      // Any Debezium topic, not only the tables the worker consumes: the registry knows every schema.
      const decoder = new Decoder(new RegistrySchemaSource(cfg.registry), anyDebeziumTable);
      // A throwaway group: tailing never moves the worker's positions.
      const consumer = createKafka(cfg.kafka, logger).consumer({ groupId: `ride-cdc-tail-${randomUUID()}` });
      let seen = 0;
      let done: () => void = () => undefined;
      const finished = new Promise<void>((r) => (done = r));
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: opts.fromBeginning });
      await consumer.run({
        eachMessage: async ({ topic: t, partition, message }) => {
          if (opts.max !== undefined && seen >= opts.max) return;
          seen++;
          const meta = { topic: t, partition, offset: message.offset };
          try {
            const d = await decoder.decode({ ...meta, key: message.key, value: message.value });
            process.stdout.write(`${eventToJson(d.kind === 'change' ? d.event : { ...meta, ...d })}\n`);
          } catch (err) {
            process.stdout.write(`${JSON.stringify({ ...meta, error: errorMessage(err) })}\n`);
          }
          if (opts.max !== undefined && seen >= opts.max) done();
        },
      });
      await finished;
      await consumer.disconnect();
    });
}
