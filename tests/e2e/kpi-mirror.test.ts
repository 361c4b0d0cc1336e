import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/db/pg.js';
import { runGenerator, seedTiny } from './support/generator.js';
import { diffKpiMirror } from './support/kpi-mirror-truth.js';
import { diffMart } from '../../src/verify/mart-truth.js';
import { Scenario, type WorkerProcess } from './support/scenario.js';

/**
 * The KPI mirror (kpi_buckets) equals the mart after a drain, with two workers sharing the
 * partitions and one of them killed -9 mid-stream (its uncommitted batches are replayed by the
 * other, and a commit it made but had not mirrored yet is picked up by the resync at restart).
 * The pipeline metrics snapshots land in pipeline_metrics-* meanwhile.
 */
describe('KPI mirror in Elasticsearch', () => {
  const s = new Scenario();
  let reporting: pg.Client;
  const workers: WorkerProcess[] = [];
  const seed = Number(process.env.MIRROR_E2E_SEED ?? Math.floor(Math.random() * 1e6));

  beforeAll(async () => {
    await s.start({
      beforeConnector: () => seedTiny(s.generatorEnv(), seed),
    });
    reporting = createClient(s.reporting);
    await reporting.connect();
    workers.push(await s.startWorker(), await s.startWorker());
  }, 300_000);

  afterAll(async () => {
    await reporting?.end();
    await s.stop();
  });

  it(`equals the mart after a drain, through a second worker and a kill -9 (seed ${seed})`, async () => {
    const gen = runGenerator(s.generatorEnv(), [
      '--mode',
      'stream',
      '--volume',
      'tiny',
      '--seconds',
      '40',
      '--seed',
      String(seed + 1),
      '--stream-sleep-min',
      '20',
      '--stream-sleep-max',
      '150',
    ]);
    await new Promise((r) => setTimeout(r, 20_000));
    await workers[1]!.kill('SIGKILL');
    workers[1] = await s.startWorker();
    const run = await gen.done;
    expect(run.code, run.output).toBe(0);

    expect(
      (await s.converge(async () => (await diffMart(s.sourceDb, reporting)).diffs, 240_000)).slice(0, 5),
    ).toEqual([]);
    const diffs = await s.converge(
      async () => (await diffKpiMirror(reporting, s.es, s.indexPrefix)).diffs,
      120_000,
    );
    const { rows } = await diffKpiMirror(reporting, s.es, s.indexPrefix);
    process.stderr.write(`[kpi mirror e2e] seed ${seed}: ${rows} mart rows mirrored\n`);
    expect(diffs.slice(0, 10)).toEqual([]);
    expect(rows).toBeGreaterThan(100);

    await s.es.indices.refresh({ index: `${s.indexPrefix}pipeline_metrics-*` });
    const snaps = await s.es.search<{ events_in_total: number; worker: string }>({
      index: `${s.indexPrefix}pipeline_metrics-*`,
      size: 0,
      aggs: { workers: { cardinality: { field: 'worker' } }, events: { max: { field: 'events_in_total' } } },
    });
    const aggs = snaps.aggregations as { workers: { value: number }; events: { value: number } };
    expect(aggs.workers.value).toBeGreaterThanOrEqual(2);
    expect(aggs.events.value).toBeGreaterThan(0);
  });
});
