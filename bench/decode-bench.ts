import type { ChangeEvent } from '../src/decode/change-event.js';
import { projectToElasticsearch } from '../src/project/project-es.js';
import { delta } from '../src/project/metrics/delta.js';
import type { MetricSource } from '../src/project/metrics/catalog.js';
import { fixtureDecoder, loadFixtureMessages } from '../src/stack/fixtures/captured-messages.js';

const METRIC_TABLES = new Set(['bookings', 'payments', 'ratings', 'drivers', 'passengers']);

export interface DecodeResult {
  messages: number;
  medianEventsPerSecond: number;
  runs: number[];
}

/**
 * Decode + project on one core: the captured real messages (ride tables only), decoded through
 * the production decoder and projected into Elasticsearch intents and KPI deltas (against an
 * empty previous state, the most expensive case: every contribution is new).
 */
export async function benchDecodeProject(messagesPerRun = 200_000, runs = 5): Promise<DecodeResult> {
  const decoder = fixtureDecoder();
  const msgs = loadFixtureMessages().filter(
    (m) => m.value !== null && !m.topic.endsWith('type_zoo') && !m.topic.startsWith('__'),
  );
  // Warm up the schema cache and the JIT.
  for (let i = 0; i < 2000; i++) await decoder.decode(msgs[i % msgs.length]!);
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    const batch: ChangeEvent[] = [];
    let sink = 0;
    for (let i = 0; i < messagesPerRun; i++) {
      const d = await decoder.decode(msgs[i % msgs.length]!);
      if (d.kind !== 'change') continue;
      batch.push(d.event);
      if (METRIC_TABLES.has(d.event.table) && d.event.after)
        sink += delta(d.event.table as MetricSource, null, d.event.after as never).length;
      if (batch.length === 500) {
        sink += projectToElasticsearch(batch).length;
        batch.length = 0;
      }
    }
    sink += projectToElasticsearch(batch).length;
    const seconds = (performance.now() - started) / 1000;
    if (sink === 0) throw new Error('benchmark produced nothing');
    rates.push(messagesPerRun / seconds);
  }
  const sorted = [...rates].sort((a, b) => a - b);
  return {
    messages: messagesPerRun,
    medianEventsPerSecond: sorted[Math.floor(sorted.length / 2)]!,
    runs: rates,
  };
}
