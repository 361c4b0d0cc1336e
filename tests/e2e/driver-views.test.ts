import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { createClient } from '../../src/db/pg.js';
import { diffMart } from '../../src/verify/mart-truth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffBookingEvents, diffDriverLatest, diffLocationTimeseries } from '../../src/verify/es-truth.js';
import { generate, runGenerator } from '../../src/stack/generator-process.js';
import { startComponent, stopComponent } from './support/outage.js';
import { Scenario, type WorkerProcess } from '../../src/stack/scenario.js';

/**
 * Elasticsearch's driver and booking views against SQL over the source, on the real stack:
 * pre-existing rows (Debezium snapshot) plus a seeded simulation streaming through Debezium, a
 * worker killed with SIGKILL mid-stream, and Elasticsearch stopped for 30 s mid-stream. The mart is
 * checked against its truth after every phase too.
 */
const BIN = join(import.meta.dirname, '../../bin/ride-cdc.js');

describe('Elasticsearch driver views stay exact', () => {
  const s = new Scenario();
  let worker: WorkerProcess;
  let reporting: pg.Client;
  // The views and the mart after every phase: a fault that loses a mart change shows in the phase
  // that caused it, not later (a replay keeps whatever difference it starts from).
  const diffAll = async (): Promise<unknown[]> => [
    ...(await diffDriverLatest(s.sourceDb, s.es, s.indexPrefix)),
    ...(await diffLocationTimeseries(s.sourceDb, s.es, s.indexPrefix)),
    ...(await diffBookingEvents(s.sourceDb, s.es, s.indexPrefix)),
    ...(await diffMart(s.sourceDb, reporting)).diffs,
  ];
  const stream = (seconds: number, seed: number) =>
    runGenerator(s.generatorEnv(), [
      '--mode',
      'stream',
      '--volume',
      'tiny',
      '--seconds',
      String(seconds),
      '--seed',
      String(seed),
      '--stream-sleep-min',
      '20',
      '--stream-sleep-max',
      '120',
    ]);

  beforeAll(async () => {
    await s.start({
      beforeConnector: async (db) => {
        await generate(s.generatorEnv(), ['--mode', 'seed', '--volume', 'tiny', '--seed', '7']);
        // The snapshot carries each driver's current position once: make that the history's
        // starting point, so "one time-series document per position" is countable exactly.
        await db.query('TRUNCATE driver_location_history');
        await db.query(
          'INSERT INTO driver_location_history (driver_id, lat, lon, recorded_at) SELECT driver_id, lat, lon, updated_at FROM driver_locations',
        );
      },
    });
    reporting = createClient(s.reporting);
    await reporting.connect();
    worker = await s.startWorker();
  }, 300_000);

  afterAll(async () => {
    await reporting?.end();
    await s.stop();
  });

  it('snapshot plus a streamed simulation: one document per driver, one per position change, one per booking step', async () => {
    const run = await stream(25, 11).done;
    expect(run.code, run.output).toBe(0);
    const diffs = await s.converge(diffAll, 120_000);
    expect(diffs.slice(0, 20)).toEqual([]);
    const drivers = await s.sourceDb.query('SELECT count(*)::int AS n FROM drivers');
    const history = await s.sourceDb.query('SELECT count(*)::int AS n FROM driver_location_history');
    expect(drivers.rows[0].n).toBeGreaterThan(0);
    expect(history.rows[0].n).toBeGreaterThan(drivers.rows[0].n); // the stream really moved drivers
    expect(await worker.metric('ride_cdc_events_in_total', { op: 'u' })).toBeGreaterThan(0);
    expect(await worker.metric('ride_cdc_events_in_total', { op: 'r' })).toBeGreaterThan(0);
  });

  it('kill -9 of the worker mid-stream, then a restart, leaves the indices exact', async () => {
    const gen = stream(30, 12);
    await sleep(8000);
    expect(await worker.kill('SIGKILL')).toBeNull();
    await sleep(3000);
    worker = await s.startWorker();
    const run = await gen.done;
    expect(run.code, run.output).toBe(0);
    const diffs = await s.converge(diffAll, 120_000);
    expect(diffs.slice(0, 20)).toEqual([]);
  });

  it('Elasticsearch stopped for 30 s mid-stream: the worker pauses, is not ready, and loses nothing', async () => {
    const gen = stream(45, 13);
    await sleep(5000);
    await stopComponent(s.stack, 'elasticsearch');
    let sawNotReady = false;
    let sawPaused = false;
    const outageEnd = Date.now() + 30_000;
    while (Date.now() < outageEnd) {
      const ready = await worker.get('/readyz');
      if (ready.status === 503) sawNotReady = true;
      if ((await worker.metric('ride_cdc_paused_partitions')) > 0) sawPaused = true;
      await sleep(1000);
    }
    await startComponent(s.stack, 'elasticsearch');
    expect(sawNotReady).toBe(true);
    expect(sawPaused).toBe(true);
    expect(worker.child.exitCode).toBeNull();
    const run = await gen.done;
    expect(run.code, run.output).toBe(0);
    const diffs = await s.converge(diffAll, 180_000);
    expect(diffs.slice(0, 20)).toEqual([]);
    expect((await worker.get('/readyz')).status).toBe(200);
    expect(await worker.metric('ride_cdc_paused_partitions')).toBe(0);
  });

  it('offsets reset --to earliest reprocesses the history and both sinks end exactly where they were', async () => {
    expect(await worker.kill('SIGTERM')).toBe(0);
    const reset = spawnSync(process.execPath, [BIN, 'offsets', 'reset', '--to', 'earliest'], {
      env: { ...process.env, ...s.workerEnv() },
      encoding: 'utf8',
    });
    expect(reset.status, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/21 partitions set to earliest/);
    worker = await s.startWorker();
    // The views were exact before the reset: wait until the new process has really replayed (it
    // decoded the retained snapshot again and caught up), or the first check passes before it began.
    const replayed = await s.converge(async () => {
      const r = await worker.metric('ride_cdc_events_in_total', { op: 'r' });
      const lag = (JSON.parse((await worker.get('/readyz')).body) as { lag?: number }).lag;
      return r > 0 && lag === 0 ? [] : [`snapshot events reprocessed ${r}, lag ${lag}`];
    }, 180_000);
    expect(replayed).toEqual([]);
    const diffs = await s.converge(diffAll, 180_000);
    expect(diffs.slice(0, 20)).toEqual([]);
  });
});
