import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { waitRunning } from '../../../src/stack/connector.js';
import { expectExact, runFault } from '../support/fault-run.js';
import { killComponent, startComponent } from '../support/outage.js';

/**
 * Fault 2: kill -9 of Kafka Connect mid-stream. Nothing is flushed: Debezium's source offsets are
 * up to a second old and its producer may have sent events whose offsets it never committed, so
 * it re-reads from the slot and events arrive twice. The mart and Elasticsearch must not care.
 */
describe('fault: kill -9 of Kafka Connect', () => {
  const seed = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 1e6));

  it(`KPIs, Elasticsearch and the DLQ stay exact (seed ${seed})`, async () => {
    const r = await runFault({
      name: 'connect-kill',
      seed,
      streamSeconds: 75,
      disrupt: async (ctx) => {
        await ctx.until(0.3);
        await killComponent(ctx.s.stack, 'connect');
        ctx.mark('kill -9 connect');
        await sleep(3000);
        await startComponent(ctx.s.stack, 'connect');
        await waitRunning(ctx.s.stack, ctx.s.connector, 120_000);
        ctx.mark('connect restarted, connector RUNNING');
      },
    });
    expectExact(r);
    expect(r.deadLetters).toEqual([]);
  });
});
