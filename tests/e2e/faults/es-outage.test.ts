import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { expectExact, runFault } from '../support/fault-run.js';
import { signalComponent, startComponent, stopComponent } from '../support/outage.js';

/**
 * Fault 5: Elasticsearch down for 60 s, then slow: its process group frozen with SIGSTOP for a few
 * seconds at a time (sockets stay open, nothing answers: what a GC-stalled or overloaded node looks
 * like to a client — timeouts, not refusals), then throttled for 30 s: frozen 100 ms of every 250 ms,
 * so it answers, slowly.
 */
describe('fault: Elasticsearch down 60 s, then stalled repeatedly, then throttled', () => {
  const seed = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 1e6));

  it(`KPIs, Elasticsearch and the DLQ exact (seed ${seed})`, async () => {
    const r = await runFault({
      name: 'es-outage',
      seed,
      streamSeconds: 150,
      disrupt: async (ctx) => {
        await ctx.until(0.05);
        await stopComponent(ctx.s.stack, 'elasticsearch');
        ctx.mark('elasticsearch stopped');
        await sleep(60_000);
        await startComponent(ctx.s.stack, 'elasticsearch');
        ctx.mark('elasticsearch started');
        for (let i = 0; i < 4; i++) {
          signalComponent(ctx.s.stack, 'elasticsearch', 'SIGSTOP');
          await sleep(4000);
          signalComponent(ctx.s.stack, 'elasticsearch', 'SIGCONT');
          await sleep(3000);
        }
        ctx.mark('elasticsearch stalled 4 × 4 s');
        // Then throttled: frozen 100 ms of every 250 ms for 30 s. It keeps answering, at well under
        // half its speed and with a pause inside most requests (slow, not stalled).
        const throttleEnd = Date.now() + 30_000;
        while (Date.now() < throttleEnd) {
          signalComponent(ctx.s.stack, 'elasticsearch', 'SIGSTOP');
          await sleep(100);
          signalComponent(ctx.s.stack, 'elasticsearch', 'SIGCONT');
          await sleep(150);
        }
        ctx.mark('elasticsearch throttled 30 s (frozen 100 ms of every 250 ms)');
      },
    });
    expectExact(r);
    expect(r.deadLetters).toEqual([]);
  });
});
