import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { generate } from '../support/generator.js';
import { STREAM_ARGS, expectExact, reconnectSource, runFault } from '../support/fault-run.js';
import { killComponent, startComponent, stopComponent } from '../support/outage.js';

/**
 * Fault 3: the databases. reporting_db (the mart and the worker's positions) down for 60 s while
 * the source keeps changing; then the source database restarted between two load phases, after
 * which Debezium must resume from its replication slot by itself (no event lost or invented). And
 * reporting_db crashed (kill -9) twice, which loses the commits its WAL had not flushed yet.
 */
describe('fault: reporting_db down 60 s, reporting_db crashed; the source database restarted', () => {
  const seed = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 1e6));

  it(`reporting_db down 60 s: KPIs, Elasticsearch and the DLQ exact (seed ${seed})`, async () => {
    const r = await runFault({
      name: 'reporting-down',
      seed,
      streamSeconds: 80,
      disrupt: async (ctx) => {
        await ctx.until(0.1);
        await stopComponent(ctx.s.stack, 'postgres-reporting');
        ctx.mark('reporting_db stopped');
        await sleep(60_000);
        await startComponent(ctx.s.stack, 'postgres-reporting');
        ctx.mark('reporting_db started');
      },
    });
    expectExact(r);
    expect(r.deadLetters).toEqual([]);
  });

  // The worker commits with synchronous_commit off: a crash can lose its last commits, positions
  // with them, and those batches must replay into exactly the same mart.
  it(`reporting_db killed -9 twice mid-stream: the commits it loses are replayed (seed ${seed + 3})`, async () => {
    const r = await runFault({
      name: 'reporting-crash',
      seed: seed + 3,
      streamSeconds: 60,
      disrupt: async (ctx) => {
        for (const at of [0.2, 0.6]) {
          await ctx.until(at);
          await killComponent(ctx.s.stack, 'postgres-reporting');
          ctx.mark('reporting_db killed -9');
          await sleep(5000);
          await startComponent(ctx.s.stack, 'postgres-reporting');
          ctx.mark('reporting_db started');
        }
      },
    });
    expectExact(r);
    expect(r.deadLetters).toEqual([]);
  });

  it(`source database restarted: Debezium resumes from its slot (seed ${seed + 7})`, async () => {
    const r = await runFault({
      name: 'source-restart',
      seed: seed + 7,
      streamSeconds: 40,
      disrupt: async (ctx) => {
        await ctx.until(0.5);
        ctx.mark('first load phase running');
      },
      afterStream: async (ctx) => {
        await stopComponent(ctx.s.stack, 'postgres-source');
        ctx.mark('source database stopped');
        await sleep(10_000);
        await startComponent(ctx.s.stack, 'postgres-source');
        ctx.mark('source database started');
        await reconnectSource(ctx.s);
        // The second phase writes only after the restart: its events prove capture resumed.
        await generate(ctx.s.generatorEnv(), [
          '--mode',
          'stream',
          '--seconds',
          '30',
          '--seed',
          String(seed + 8),
          ...STREAM_ARGS,
        ]);
        ctx.mark('second load phase done');
      },
    });
    expectExact(r, { marksMayOutliveStream: true });
    expect(r.deadLetters).toEqual([]);
  });
});
