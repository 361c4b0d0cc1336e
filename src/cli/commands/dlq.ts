import type { Command } from 'commander';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { Decoder } from '../../decode/decoder.js';
import { RegistrySchemaSource } from '../../decode/schema-source.js';
import { eventToJson } from '../../decode/to-json.js';
import { createLogger } from '../../observe/logger.js';
import { errorMessage } from '../../shared/errors.js';
import { parseSince, selectLetters, type Letter, type LetterFilter } from '../../source/dlq-plan.js';
import { readLetters, replayLetters } from '../../source/dlq-replay.js';
import { createKafka } from '../../source/kafka-client.js';

interface FilterOpts {
  reason?: string;
  since?: string;
  max?: number;
}

function filterOf(o: FilterOpts): LetterFilter {
  return { reason: o.reason, sinceMs: o.since === undefined ? undefined : parseSince(o.since), max: o.max };
}

function origin(l: Letter): string {
  return `${l.origin.topic}/${l.origin.partition}@${l.origin.offset}`;
}

export function register(program: Command): void {
  const dlq = program.command('dlq').description('Read and re-drive the dead-letter topic (DLQ_TOPIC)');
  const filters = (c: Command) =>
    c
      .option('--reason <r>', 'only letters with this reason (e.g. unknown-schema, elasticsearch-rejected)')
      .option('--since <t>', 'only letters dead-lettered since an ISO time or 90s/15m/2h/7d ago')
      .option('--max <n>', 'at most n letters', (v) => Number.parseInt(v, 10));

  filters(dlq.command('list'))
    .description(
      'Print dead letters as JSON lines: reason, error, origin topic/partition/offset, decoded event',
    )
    .action(async (opts: FilterOpts) => {
      const cfg = loadWorkerConfig();
      const kafka = createKafka(cfg.kafka, createLogger('warn'));
      const decoder = new Decoder(new RegistrySchemaSource(cfg.registry), cfg.kafka.topicPrefix);
      const { letters, unparsed } = await readLetters(kafka, cfg.kafka.dlqTopic);
      for (const l of selectLetters(letters, filterOf(opts))) {
        let decoded: unknown;
        try {
          const d = await decoder.decode({ ...l.origin, key: l.key, value: l.value });
          decoded = d.kind === 'change' ? d.event : d;
        } catch (err) {
          decoded = { undecodable: errorMessage(err) };
        }
        process.stdout.write(
          `${eventToJson({ dlq: l.dlq, reason: l.reason, error: l.error, failedAt: l.failedAt, origin: l.origin, decoded })}\n`,
        );
      }
      if (unparsed > 0)
        process.stderr.write(`${unparsed} message(s) without ride-cdc origin headers skipped\n`);
    });

  filters(dlq.command('replay'))
    .description(
      'Re-produce dead letters to their origin topic/partition so the worker applies them again (idempotent)',
    )
    .option('--dry-run', 'only say what would be re-driven', false)
    .action(async (opts: FilterOpts & { dryRun: boolean }) => {
      const cfg = loadWorkerConfig();
      const kafka = createKafka(cfg.kafka, createLogger('warn'));
      const { letters } = await readLetters(kafka, cfg.kafka.dlqTopic);
      const selected = selectLetters(letters, filterOf(opts));
      const r = await replayLetters(kafka, selected, letters, { dryRun: opts.dryRun });
      for (const l of r.replayed)
        process.stdout.write(`${opts.dryRun ? 'would replay' : 'replayed'} ${origin(l)} (${l.reason})\n`);
      for (const l of r.superseded)
        process.stdout.write(`superseded ${origin(l)} (${l.reason}): a newer change of its row follows it\n`);
      process.stdout.write(
        `${JSON.stringify({ selected: selected.length, replayed: r.replayed.length, superseded: r.superseded.length, dryRun: opts.dryRun })}\n`,
      );
    });
}
