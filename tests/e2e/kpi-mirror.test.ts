import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/db/pg.js';
import { runGenerator, seedTiny } from './support/generator.js';
import { diffKpiMirror } from './support/kpi-mirror-truth.js';
import { diffMart } from '../../src/verify/mart-truth.js';
import { Scenario, type WorkerProcess } from './support/scenario.js';
import { KPI_MIRROR_INDEX } from '../../src/sink/elasticsearch/kpi-mirror.js';
import { mirrorDoc, mirrorDocId } from '../../src/sink/elasticsearch/kpi-mirror-doc.js';

/**
 * The KPI mirror (kpi_buckets) equals the mart after a drain, with two workers sharing the
 * partitions and one of them killed -9 mid-stream (its uncommitted batches are replayed by the
 * other, and a commit it made but had not mirrored yet is picked up by the resync at restart —
 * a deleted row through its key in mart.kpi_mirror_tombstone).
 * The pipeline metrics snapshots land in pipeline_metrics-* meanwhile.
 */
describe('KPI mirror in Elasticsearch', () => {
  const s = new Scenario();
  let reporting: pg.Client;
  const workers: WorkerProcess[] = [];
  const tombstones = async () =>
    (
      await reporting.query<{ key: string }>(
        `SELECT concat_ws('|', metric_name, bucket_granularity, bucket_start, dimension) AS key FROM mart.kpi_mirror_tombstone`,
      )
    ).rows.map((r) => r.key);
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
    // Every deletion's key was forgotten once its document was gone (the killed worker's by the
    // restarted one's resync).
    expect(await tombstones()).toEqual([]);

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

  // What a worker leaves when it dies after the transaction that emptied a KPI row committed and
  // before its mirror deleted the document: the document, and the key in kpi_mirror_tombstone.
  // The gauge table alone cannot show a row that is gone; the next start's resync must.
  it('a deletion committed but not mirrored is deleted at the next start (tombstone)', async () => {
    const index = `${s.indexPrefix}${KPI_MIRROR_INDEX}`;
    const key = {
      granularity: 'CURRENT',
      bucketStart: null,
      metric: 'trips_in_progress',
      dimension: 'zone:999',
    } as const;
    expect(
      (
        await reporting.query(`SELECT 1 FROM mart.metric_gauge WHERE metric_name = $1 AND dimension = $2`, [
          key.metric,
          key.dimension,
        ])
      ).rowCount,
    ).toBe(0);
    const doc = mirrorDoc({
      ...key,
      numerator: '1',
      denominator: '1',
      value: '1',
      updatedAt: new Date().toISOString(),
    });
    await s.es.index({ index, id: mirrorDocId(key), document: doc, refresh: true });
    await reporting.query(
      `INSERT INTO mart.kpi_mirror_tombstone (bucket_granularity, bucket_start, metric_name, dimension)
       VALUES ('CURRENT', '-infinity', $1, $2)`,
      [key.metric, key.dimension],
    );
    expect((await diffKpiMirror(reporting, s.es, s.indexPrefix)).diffs).toEqual([
      `${mirrorDocId(key)}: in Elasticsearch, not in the mart`,
    ]);

    await workers[0]!.kill('SIGKILL');
    workers[0] = await s.startWorker();
    expect(
      await s.converge(async () => (await diffKpiMirror(reporting, s.es, s.indexPrefix)).diffs, 60_000),
    ).toEqual([]);
    expect(await s.converge(tombstones, 30_000)).toEqual([]);
  });
});
