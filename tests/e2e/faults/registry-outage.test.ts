import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { expectExact, runFault } from '../support/fault-run.js';
import { startComponent, stopComponent } from '../support/outage.js';

/**
 * Fault 4: the schema registry down for 60 s, and a worker restarted during the outage (so it has
 * no schema cache and cannot decode anything until the registry is back). Debezium cannot
 * serialise either. When the registry returns, capture and the pipeline must resume without any
 * manual action (no connector restart by the test).
 */
describe('fault: registry down 60 s with a worker restarted during the outage', () => {
  const seed = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 1e6));

  it(`capture resumes by itself; KPIs, Elasticsearch and the DLQ exact (seed ${seed})`, async () => {
    const r = await runFault({
      name: 'registry-outage',
      seed,
      streamSeconds: 90,
      disrupt: async (ctx) => {
        await ctx.until(0.1);
        await stopComponent(ctx.s.stack, 'registry');
        ctx.mark('registry stopped');
        await sleep(25_000);
        await ctx.workers[0]!.kill('SIGKILL');
        ctx.workers[0] = await ctx.s.spawnWorker();
        ctx.mark('worker killed and restarted with an empty schema cache');
        await sleep(35_000);
        await startComponent(ctx.s.stack, 'registry');
        ctx.mark('registry started');
        await ctx.workers[0].waitReady(180_000);
        ctx.mark('restarted worker ready');
      },
    });
    expectExact(r);
    expect(r.deadLetters).toEqual([]);
  });
});
