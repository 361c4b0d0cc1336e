import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { kafkaNodes } from '../../../src/stack/components/kafka-cluster.js';
import { describeQuorum } from '../../../src/stack/components/kafka-quorum.js';
import { loadStackConfig } from '../../../src/stack/config.js';
import { expectExact, runFault, waitFullIsr } from '../support/fault-run.js';
import { killComponent, startComponent } from '../support/outage.js';

/**
 * Fault 1 of the original suite on its deployment's topology: kill -9 of one broker, then of the
 * active KRaft controller, in the 3-broker cluster (RF 3, min ISR 2, acks=all), each restarted.
 */
describe('fault: kill -9 of a broker, then of the active controller', () => {
  const seed = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 1e6));

  it(`KPIs, Elasticsearch and the DLQ stay exact (seed ${seed})`, async () => {
    const cfg = loadStackConfig();
    const nodes = kafkaNodes(cfg);
    expect(
      nodes.length,
      'needs the 3-broker stack: `stack up --brokers 3` or STACK_KAFKA_BROKERS=3',
    ).toBeGreaterThanOrEqual(3);
    const r = await runFault({
      name: 'broker-kill',
      seed,
      streamSeconds: 90,
      disrupt: async (ctx) => {
        await ctx.until(0.1);
        const before = await describeQuorum(cfg);
        const broker = nodes.find((n) => n.id !== before.leaderId)!;
        await killComponent(cfg, broker.name);
        ctx.mark(`kill -9 ${broker.name} (a broker, controller is node ${before.leaderId})`);
        await sleep(10_000);
        await startComponent(cfg, broker.name);
        ctx.mark(`${broker.name} restarted, ISR full after ${await waitFullIsr(ctx.s, 60_000)} ms`);

        const q = await describeQuorum(cfg);
        const controller = nodes.find((n) => n.id === q.leaderId)!;
        await killComponent(cfg, controller.name);
        ctx.mark(`kill -9 ${controller.name} (the active controller, epoch ${q.leaderEpoch})`);
        await sleep(10_000);
        const after = await describeQuorum(cfg);
        ctx.mark(`node ${after.leaderId} is the active controller (epoch ${after.leaderEpoch})`);
        expect(after.leaderId).not.toBe(controller.id);
        expect(after.leaderEpoch).toBeGreaterThan(q.leaderEpoch);
        await startComponent(cfg, controller.name);
        ctx.mark(`${controller.name} restarted, ISR full after ${await waitFullIsr(ctx.s, 60_000)} ms`);
      },
    });
    expectExact(r);
    expect(r.deadLetters).toEqual([]);
  });
});
