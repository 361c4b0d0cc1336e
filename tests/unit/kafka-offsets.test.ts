import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { commitToKafka } from '../../src/source/kafka-offsets.js';
import { metricValue } from './support/pipeline-fakes.js';

describe('commitToKafka: the reporting_db position mirrored into the consumer group', () => {
  const deps = () => ({ metrics: createMetrics(), logger: createLogger('silent') });

  it('commits exactly the stored next offset', async () => {
    const commits: unknown[] = [];
    await commitToKafka({ commitOffsets: async (o) => void commits.push(o) }, 't', 3, '42', deps());
    expect(commits).toEqual([[{ topic: 't', partition: 3, offset: '42' }]]);
  });

  it('is best effort: a failed commit is counted, never thrown (reporting_db stays the truth)', async () => {
    const d = deps();
    await commitToKafka(
      {
        commitOffsets: async () => {
          throw new Error('REBALANCE_IN_PROGRESS');
        },
      },
      't',
      0,
      '1',
      d,
    );
    expect(await metricValue(d.metrics, 'ride_cdc_kafka_offset_commit_failures_total')).toBe(1);
  });
});
