import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, describeOtherSessions } from '../../src/db/pg.js';
import { diffBookingEvents, diffDriverLatest } from '../../src/verify/es-truth.js';
import { diffBookingFacts, diffMart } from '../../src/verify/mart-truth.js';
import { runCli as cli } from './support/cli.js';
import { runGenerator, seedTiny } from './support/generator.js';
import { readDeadLetters } from './support/fault-run.js';
import { Scenario, type WorkerProcess } from './support/scenario.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { projectToElasticsearch } from '../../src/project/project-es.js';
import { ElasticsearchSink } from '../../src/sink/elasticsearch/es-sink.js';
import type { ChangeEvent, Row } from '../../src/decode/change-event.js';

/**
 * TRUNCATE on the real stack (issue #9 item 5). Debezium lets the truncate through
 * (skipped.operations=none); the worker stops that partition loudly instead of diverging or
 * dead-lettering: /readyz 503 naming the table and the rebuild command,
 * ride_cdc_systemic_failures{stage="project",reason="source-truncate"} rising, nothing
 * dead-lettered. `ride-cdc mart rebuild --table T` refuses while the worker is a member of the
 * group; with the worker stopped it rebuilds from the current rows while the generator keeps
 * writing, and once the worker is back (applying the events after the rebuild's end offsets again)
 * the mart and Elasticsearch equal the source exactly.
 */
describe('a source TRUNCATE', () => {
  const s = new Scenario();
  let reporting: pg.Client;
  let worker: WorkerProcess;
  const seed = Number(process.env.TRUNCATE_E2E_SEED ?? Math.floor(Math.random() * 1e6));
  // A soft stop must not wait the default 30 s for the batch held at the truncate.
  const workerEnv = { SHUTDOWN_TIMEOUT_MS: '5000' };
  const env = () => ({ ...s.workerEnv(), ...s.generatorEnv() });

  beforeAll(async () => {
    await s.start({
      beforeConnector: () => seedTiny(s.generatorEnv(), seed),
    });
    reporting = createClient(s.reporting);
    await reporting.connect();
    worker = await s.startWorker(workerEnv);
  }, 300_000);

  afterAll(async () => {
    await reporting?.end();
    await s.stop();
  });

  /** Waits until the worker reports the truncate of a table matching `table` on /readyz and in the metric. */
  async function waitTruncateReported(w: WorkerProcess, table: string): Promise<string> {
    const named = new RegExp(`table (${table}) was truncated[^"]*--table (${table})\``);
    const deadline = Date.now() + 90_000;
    let last = '';
    while (Date.now() < deadline) {
      const r = await w.get('/readyz');
      last = `${r.status} ${r.body}`;
      const systemic = await w.metric('ride_cdc_systemic_failures', {
        stage: 'project',
        reason: 'source-truncate',
      });
      if (r.status === 503 && named.test(r.body) && systemic >= 1) return r.body;
      await sleep(500);
    }
    throw new Error(`truncate of ${table} not reported within 90 s; last /readyz: ${last}`);
  }

  /**
   * Runs a TRUNCATE with a lock timeout: one waiting on a lock fails within a minute and names the
   * sessions that held it, instead of hanging the test into its timeout.
   */
  async function truncate(sql: string): Promise<void> {
    await s.sourceDb.query(`SET lock_timeout = '60s'`);
    try {
      await s.sourceDb.query(sql);
    } catch (err) {
      const others = await describeOtherSessions(s.sourceDb);
      throw new Error(`${sql}: ${(err as Error).message}; other sessions at work: ${others || 'none'}`);
    } finally {
      await s.sourceDb.query('RESET lock_timeout');
    }
  }

  async function converged(): Promise<string[]> {
    return s.converge(async () => {
      const mart = (await diffMart(s.sourceDb, reporting)).diffs.map((d) => `kpi ${d.key}`);
      const facts = (await diffBookingFacts(s.sourceDb, reporting)).map((d) => `fact ${JSON.stringify(d)}`);
      const drivers = (await diffDriverLatest(s.sourceDb, s.es, s.indexPrefix)).map((d) => `es ${d.what}`);
      const bookings = (await diffBookingEvents(s.sourceDb, s.es, s.indexPrefix)).map((d) => `es ${d.what}`);
      return [...mart, ...facts, ...drivers, ...bookings];
    }, 240_000);
  }

  it(`TRUNCATE ratings mid-stream: paused and loud, rebuilt while the stream goes on, exact (seed ${seed})`, async () => {
    const gen = runGenerator(s.generatorEnv(), [
      '--mode',
      'stream',
      '--volume',
      'tiny',
      '--seconds',
      '70',
      '--seed',
      String(seed + 1),
      '--stream-sleep-min',
      '20',
      '--stream-sleep-max',
      '150',
      '--stream-new-booking-prob',
      '0.5',
    ]);
    await sleep(12_000);
    const before = Number(
      (await s.sourceDb.query<{ n: string }>('SELECT count(*) AS n FROM ratings')).rows[0]!.n,
    );
    await truncate('TRUNCATE ratings');

    const readyz = await waitTruncateReported(worker, 'ratings');
    expect(readyz).toContain('table ratings was truncated in the source');
    expect(await worker.metric('ride_cdc_dead_letter_total')).toBe(0);

    // Refused while the worker is still a member of the group: nothing changes.
    const refused = await cli(env(), ['mart', 'rebuild', '--table', 'ratings']);
    expect(refused.code, refused.out).toBe(2);
    expect(refused.out).toMatch(/still has 1 member/);

    await worker.kill('SIGTERM');
    // The generator keeps writing ratings (and everything else) during and after the rebuild.
    const rebuilt = await cli(env(), ['mart', 'rebuild', '--table', 'ratings']);
    expect(rebuilt.code, rebuilt.out).toBe(0);
    expect(rebuilt.out).toMatch(/mart ratings: \d+ states from the source rows, \d+ removed/);
    expect(rebuilt.out).toMatch(/backfill \w+: \d+ old rows replaced/);
    expect(rebuilt.out).toMatch(new RegExp(`position ${s.topicPrefix}\\.public\\.ratings/0 -> \\d+`));
    process.stderr.write(`[truncate e2e] ${before} ratings truncated; rebuild:\n${rebuilt.out}`);

    worker = await s.startWorker(workerEnv);
    const run = await gen.done;
    expect(run.code, run.output).toBe(0);
    const after = Number(
      (await s.sourceDb.query<{ n: string }>('SELECT count(*) AS n FROM ratings')).rows[0]!.n,
    );
    expect(after).toBeGreaterThan(0); // ratings written after the truncate, some after the rebuild

    expect((await converged()).slice(0, 10)).toEqual([]);
    expect(await readDeadLetters(s)).toEqual([]);
    expect((await worker.get('/readyz')).status).toBe(200);
    expect(
      await worker.metric('ride_cdc_systemic_failures', { stage: 'project', reason: 'source-truncate' }),
    ).toBe(0);
    process.stderr.write(
      `[truncate e2e] ratings: ${before} before the truncate, ${after} at the end; exact\n`,
    );
  }, 600_000);

  it('TRUNCATE bookings CASCADE (bookings, payments, ratings): the booking documents are rebuilt too', async () => {
    await truncate('TRUNCATE bookings CASCADE');
    // One truncate event per table; /readyz names the last partition that stopped.
    const body = await waitTruncateReported(worker, 'bookings|payments|ratings');
    expect(body).toMatch(/truncated in the source/);
    // New bookings after the truncate, some before and some after the rebuild.
    const gen = runGenerator(s.generatorEnv(), [
      '--mode',
      'stream',
      '--volume',
      'tiny',
      '--seconds',
      '30',
      '--seed',
      String(seed + 2),
      '--stream-sleep-min',
      '20',
      '--stream-sleep-max',
      '150',
      '--stream-new-booking-prob',
      '0.6',
    ]);
    await sleep(10_000);
    const t0 = performance.now();
    const exitCode = await worker.kill('SIGTERM');
    const stopMs = Math.round(performance.now() - t0);
    const rebuilt = await cli(env(), ['mart', 'rebuild', '--table', 'bookings', 'payments', 'ratings']);
    expect(rebuilt.code, rebuilt.out).toBe(0);
    expect(rebuilt.out).toMatch(/elasticsearch booking_events: \d+ documents deleted, \d+ written/);
    process.stderr.write(
      `[truncate e2e] worker stopped in ${stopMs} ms (exit ${exitCode}); cascade rebuild in ${Math.round(rebuilt.ms)} ms:\n${rebuilt.out}`,
    );
    worker = await s.startWorker(workerEnv);
    const run = await gen.done;
    expect(run.code, run.output).toBe(0);
    const bookings = Number(
      (await s.sourceDb.query<{ n: string }>('SELECT count(*) AS n FROM bookings')).rows[0]!.n,
    );
    expect(bookings).toBeGreaterThan(0);

    expect((await converged()).slice(0, 10)).toEqual([]);
    expect(await readDeadLetters(s)).toEqual([]);
    expect((await worker.get('/readyz')).status).toBe(200);
    process.stderr.write(`[truncate e2e] after TRUNCATE bookings CASCADE: ${bookings} new bookings; exact\n`);
  }, 600_000);

  it('Elasticsearch views converge whatever the write order: a deleted driver stays deleted, an older booking write is a no-op', async () => {
    // Real Elasticsearch, the worker's own sink, on indices of their own (the scenario's views stay untouched).
    const prefix = `${s.indexPrefix}guard-`;
    const sink = new ElasticsearchSink(s.es, prefix, { maxDocs: 100, maxBytes: 1 << 20 }, createMetrics());
    await sink.start();
    const ev = (table: string, op: 'u' | 'd', row: Row, lsn: number): ChangeEvent => ({
      table,
      op,
      key: null,
      before: op === 'd' ? row : null,
      after: op === 'd' ? null : row,
      sourceTsMs: Date.now(),
      lsn,
      txId: null,
      snapshot: false,
      topic: `t.${table}`,
      partition: 0,
      offset: String(lsn),
    });
    const write = (...es: ChangeEvent[]) => sink.write(projectToElasticsearch(es));
    const driver = (id: number, lsn: number) =>
      ev(
        'drivers',
        'u',
        { id, status: 'available', vehicle_type: 'car', updated_at: '2026-11-21T04:00:00.000000Z' },
        lsn,
      );
    const location = (id: number, lsn: number) =>
      ev(
        'driver_locations',
        'u',
        { driver_id: id, lat: 10.8, lon: 106.7, updated_at: '2026-11-21T04:00:01.000000Z' },
        lsn,
      );
    // Driver 1: delete first, then an older location (another partition, processed later).
    await write(driver(1, 100), location(1, 110));
    await write(ev('drivers', 'd', { id: 1 }, 200));
    await write(location(1, 150));
    // Driver 2: the cascaded location delete (newer LSN) before the driver delete.
    await write(driver(2, 100), location(2, 110));
    await write(ev('driver_locations', 'd', { driver_id: 2 }, 201));
    await write(ev('drivers', 'd', { id: 2 }, 200));
    // Driver 3: deleted, then inserted again with a newer LSN: the new row wins.
    await write(driver(3, 100));
    await write(ev('drivers', 'd', { id: 3 }, 200));
    await write(driver(3, 300));
    await s.es.indices.refresh({ index: `${prefix}driver_locations` });
    const docs = await s.es.search<{ driver_id: number; status_lsn?: number }>({
      index: `${prefix}driver_locations`,
      query: { match_all: {} },
    });
    expect(docs.hits.hits.map((h) => [h._id, h._source!.status_lsn])).toEqual([['3', 300]]);

    // A booking step written at LSN 500, then a stale write of the same step at LSN 400.
    const booking = (status: string, lsn: number) =>
      ev(
        'bookings',
        'u',
        {
          id: 9,
          status,
          requested_at: '2026-11-21T04:00:00.000000Z',
          final_fare: status === 'completed' ? '52000.00' : null,
        },
        lsn,
      );
    await write(booking('completed', 500));
    await write(booking('requested', 400));
    await s.es.indices.refresh({ index: `${prefix}booking_events-*` });
    const step = await s.es.search<{ status: string; source_lsn: number; final_fare: unknown }>({
      index: `${prefix}booking_events-*`,
      query: { ids: { values: ['booking:9:requested'] } },
    });
    expect(step.hits.hits.map((h) => h._source)).toMatchObject([{ status: 'completed', source_lsn: 500 }]);
    await write(booking('cancelled', 600));
    await s.es.indices.refresh({ index: `${prefix}booking_events-*` });
    const newer = await s.es.search<{ status: string; source_lsn: number }>({
      index: `${prefix}booking_events-*`,
      query: { ids: { values: ['booking:9:requested'] } },
    });
    expect(newer.hits.hits.map((h) => h._source)).toMatchObject([{ status: 'cancelled', source_lsn: 600 }]);
  });
});
