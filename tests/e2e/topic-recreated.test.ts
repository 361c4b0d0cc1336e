import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/db/pg.js';
import { diffMart } from '../../src/verify/mart-truth.js';
import { Scenario, type WorkerProcess } from './support/scenario.js';

const REPO = join(import.meta.dirname, '../..');

/**
 * Issue 9 item 4 on the real stack: the drivers topic is deleted and re-created while the worker
 * is down, so its stored position is past the end of the new log. The worker must not skip the new
 * messages as "already committed": it stays not ready with the systemic reason
 * `position-ahead-of-log` and dead-letters nothing; after `ride-cdc offsets reset --to earliest
 * --table drivers` (the command its log names) it resumes by itself and the views converge.
 */
describe('a topic re-created under a stored position', () => {
  const s = new Scenario();
  let worker: WorkerProcess;
  const topic = () => `${s.topicPrefix}.public.drivers`;
  const status = async (id: number) => {
    await s.es.indices.refresh({ index: `${s.indexPrefix}driver_locations` }).catch(() => undefined);
    const doc = await s.es
      .get<{ status: string }>({ index: `${s.indexPrefix}driver_locations`, id: String(id) })
      .catch(() => null);
    return doc?._source?.status ?? null;
  };

  beforeAll(async () => {
    await s.start({
      beforeConnector: async (db) => {
        await db.query(
          `INSERT INTO drivers (id, full_name, phone, vehicle_type, plate_number, status, home_zone_id)
           VALUES (1, 'Topic One', '+84921', 'car', '51B-11', 'available', 1)`,
        );
        await db.query(
          `INSERT INTO driver_locations (driver_id, lat, lon, zone_id, updated_at) VALUES (1, 10.77, 106.70, 1, now())`,
        );
      },
    });
    worker = await s.startWorker();
  }, 300_000);
  afterAll(async () => {
    await s.stop();
  });

  it('pauses loudly instead of skipping, and resumes after the offsets reset it names', async () => {
    // Move the drivers topic forward, so the stored position is well past a fresh log's end.
    for (const st of ['busy', 'available', 'busy', 'available', 'busy', 'available'])
      await s.sourceDb.query(`UPDATE drivers SET status = $1, updated_at = now() WHERE id = 1`, [st]);
    const reporting = createClient(s.reporting);
    await reporting.connect();
    try {
      const exact = async () => (await diffMart(s.sourceDb, reporting)).diffs.map((d) => d.key);
      expect((await s.converge(exact, 120_000)).slice(0, 5)).toEqual([]);
      const stored = await reporting.query<{ n: string }>(
        `SELECT sum(next_offset)::text AS n FROM mart.consumer_offsets WHERE group_id = $1 AND topic = $2`,
        [s.groupId, topic()],
      );
      expect(Number(stored.rows[0]?.n ?? 0)).toBeGreaterThanOrEqual(7);
      await worker.kill('SIGTERM');

      // Re-create the topic with the same partitions; the next change lands at offset 0.
      const admin = s.kafka.admin();
      await admin.connect();
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [topic()] });
        const partitions = meta.topics[0]!.partitions.length;
        await admin.deleteTopics({ topics: [topic()], timeout: 30_000 });
        const gone = Date.now() + 60_000;
        while ((await admin.listTopics()).includes(topic()) && Date.now() < gone) await sleep(500);
        await admin.createTopics({
          topics: [{ topic: topic(), numPartitions: partitions }],
          waitForLeaders: true,
        });
      } finally {
        await admin.disconnect();
      }
      await s.sourceDb.query(`UPDATE drivers SET status = 'offline', updated_at = now() WHERE id = 1`);

      worker = await s.spawnWorker();
      const reason = { stage: 'kafka', reason: 'position-ahead-of-log' };
      // Until its metrics port is up, the fresh process answers nothing: that is not the signal.
      const systemic = () => worker.metric('ride_cdc_systemic_failures', reason).catch(() => 0);
      const loud = Date.now() + 120_000;
      while ((await systemic()) === 0 && worker.child.exitCode === null && Date.now() < loud)
        await sleep(1000);
      expect(worker.child.exitCode).toBeNull();
      expect(await worker.metric('ride_cdc_systemic_failures', reason)).toBeGreaterThan(0);
      expect((await worker.get('/readyz')).status).toBe(503);
      expect(await worker.metric('ride_cdc_dead_letter_total')).toBe(0);
      expect(await status(1)).toBe('available'); // the new change is not applied past a wrong position

      const reset = spawnSync(
        process.execPath,
        [join(REPO, 'bin/ride-cdc.js'), 'offsets', 'reset', '--to', 'earliest', '--table', 'drivers'],
        { env: { ...process.env, ...s.workerEnv() }, encoding: 'utf8' },
      );
      expect(reset.status, reset.stderr).toBe(0);

      // The position is re-read on every retry: the running worker resumes by itself.
      const diffs = await s.converge(async () => {
        const st = await status(1);
        return st === 'offline' ? await exact() : [`driver 1 is ${st}`];
      }, 180_000);
      expect(diffs).toEqual([]);
      await worker.waitReady(60_000);
      expect(await worker.metric('ride_cdc_dead_letter_total')).toBe(0);
    } finally {
      await reporting.end();
    }
  }, 600_000);
});
