import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/db/pg.js';
import { diffBookingEvents, diffDriverLatest } from '../../../src/verify/es-truth.js';
import { runGenerator, seedTiny } from '../../../src/stack/generator-process.js';
import { readDeadLetters } from './fault-run.js';
import { diffIndependent } from './independent-truth.js';
import { diffBookingFacts, diffMart, diffSnapshot } from '../../../src/verify/mart-truth.js';
import { startComponent, stopComponent } from './outage.js';
import { Scenario, type WorkerProcess } from '../../../src/stack/scenario.js';

/**
 * The scenario of tests/e2e/mart-exact.test.ts, shared with the secured stack's suite
 * (tests/secure/pipeline.test.ts): the same assertions hold whichever stack it runs on.
 *
 * The reporting mart equals SQL over ride_hailing_db for EVERY KPI, granularity, bucket and
 * dimension, after: a Debezium snapshot of pre-existing rows, minutes of seeded streaming, three
 * kill -9 of a worker at random points, a restart of Kafka Connect, and a second worker joining
 * and leaving again (fault 7 of the original system's suite; also checked against the
 * independent truth).
 */
export function describeMartExact(title: string, opts: { streamSeconds?: number } = {}): void {
  describe(title, () => {
    const s = new Scenario();
    let reporting: pg.Client;
    const workers: WorkerProcess[] = [];
    const STREAM_SECONDS = Number(process.env.MART_E2E_SECONDS ?? opts.streamSeconds ?? 120);
    // Random but reported, so a failing run can be replayed.
    const seed = Number(process.env.MART_E2E_SEED ?? Math.floor(Math.random() * 1e6));

    beforeAll(async () => {
      await s.start({
        beforeConnector: () => seedTiny(s.generatorEnv(), seed),
      });
      reporting = createClient(s.reporting);
      await reporting.connect();
      workers.push(await s.startWorker());
    }, 300_000);

    afterAll(async () => {
      await reporting?.end();
      await s.stop();
    });

    it(`stays exact through kill -9 ×3, a Connect restart and a second worker joining and leaving (seed ${seed})`, async () => {
      const gen = runGenerator(s.generatorEnv(), [
        '--mode',
        'stream',
        '--volume',
        'tiny',
        '--seconds',
        String(STREAM_SECONDS),
        '--seed',
        String(seed + 1),
        '--stream-sleep-min',
        '20',
        '--stream-sleep-max',
        '150',
        '--stream-new-booking-prob',
        '0.5',
      ]);
      const at = (fraction: number) => Math.round(STREAM_SECONDS * 1000 * (fraction + Math.random() * 0.08));
      const t0 = Date.now();
      const until = async (ms: number) => sleep(Math.max(0, ms - (Date.now() - t0)));
      const events: { what: string; at: number }[] = [];

      // Connect first: stopping it cleanly takes the longest, and it must happen mid-stream.
      await until(at(0.08));
      await stopComponent(s.stack, 'connect');
      await sleep(2000);
      await startComponent(s.stack, 'connect');
      events.push({ what: 'Kafka Connect restarted', at: Date.now() - t0 });

      await until(at(0.3));
      await workers[0]!.kill('SIGKILL');
      events.push({ what: 'kill -9 #1', at: Date.now() - t0 });
      workers[0] = await s.startWorker();

      await until(at(0.45));
      workers.push(await s.startWorker());
      events.push({ what: 'second worker joined', at: Date.now() - t0 });

      await until(at(0.6));
      await workers[0]!.kill('SIGKILL');
      events.push({ what: 'kill -9 #2', at: Date.now() - t0 });
      workers[0] = await s.startWorker();

      await until(at(0.75));
      await workers[1]!.kill('SIGKILL');
      events.push({ what: 'kill -9 #3 (second worker)', at: Date.now() - t0 });
      workers[1] = await s.startWorker();

      await until(at(0.85));
      const left = workers.pop()!;
      expect(await left.kill('SIGTERM')).toBe(0);
      events.push({ what: 'second worker left (SIGTERM)', at: Date.now() - t0 });

      const run = await gen.done;
      const streamEnded = Date.now() - t0;
      expect(run.code, run.output).toBe(0);
      // Every disruption happened while the generator was still writing; the second worker's
      // leave comes last and may coincide with the stream's end (seen in CI rehearsal).
      for (const e of events.filter((x) => !x.what.startsWith('second worker left')))
        expect(e.at, e.what).toBeLessThan(streamEnded);

      const result = await s.converge(async () => (await diffMart(s.sourceDb, reporting)).diffs, 240_000);
      const summary = await diffMart(s.sourceDb, reporting);
      const buckets = await reporting.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM mart.fact_metric_bucket',
      );
      const independent = await diffIndependent(s.sourceDb, reporting);
      const events_in = (await Promise.all(workers.map((w) => w.metric('ride_cdc_events_in_total')))).reduce(
        (a, b) => a + b,
        0,
      );
      process.stderr.write(
        `[mart e2e] seed ${seed}; ${events.map((e) => `${e.what} at ${e.at} ms`).join('; ')}; stream ended at ${streamEnded} ms; ${summary.truthRows} truth rows over ${summary.metrics} KPIs, ` +
          `${independent.truthRows} independent truth rows over ${independent.kpis} KPIs, ` +
          `${buckets.rows[0]!.n} bucket rows, ${events_in} events decoded by the last worker process\n`,
      );
      expect(result.slice(0, 10)).toEqual([]);
      expect(summary.metrics).toBeGreaterThanOrEqual(30);
      expect(independent.diffs.slice(0, 10)).toEqual([]);
      expect(await readDeadLetters(s)).toEqual([]);

      expect(await diffBookingFacts(s.sourceDb, reporting)).toEqual([]);
      expect((await diffSnapshot(s.sourceDb, reporting)).slice(0, 10)).toEqual([]);
      // The same run keeps Elasticsearch exact too (both sinks of one batch).
      expect((await diffDriverLatest(s.sourceDb, s.es, s.indexPrefix)).slice(0, 10)).toEqual([]);
      expect((await diffBookingEvents(s.sourceDb, s.es, s.indexPrefix)).slice(0, 10)).toEqual([]);
      // Positions in reporting_db cover every partition both workers consumed.
      const offsets = await reporting.query<{ n: number }>(
        'SELECT count(DISTINCT topic)::int AS n FROM mart.consumer_offsets',
      );
      expect(offsets.rows[0]!.n).toBeGreaterThanOrEqual(5);
    });
  });
}
