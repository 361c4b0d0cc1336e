import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUrl } from '../../src/stack/components/connect.js';
import { startComponent, stopComponent } from './support/outage.js';
import { TestPrometheus } from './support/prometheus.js';
import { Scenario, type WorkerProcess } from './support/scenario.js';

/**
 * The alert rules of compose/prometheus/alerts.yml evaluated by a real Prometheus (`stack up
 * prometheus`) against a real worker while real faults happen: a poison message, Elasticsearch
 * stopped and restarted, capture paused. Only `for:` is shortened (capped at 10 s); every
 * expression is the one on-call gets.
 */
describe('alerts seen firing in Prometheus', () => {
  const s = new Scenario();
  let worker: WorkerProcess;
  let prom: TestPrometheus;
  const seen: string[] = [];
  const note = (line: string) => {
    seen.push(line);
    process.stderr.write(`[alerts] ${line}\n`);
  };
  const touchDriver = async () => {
    await s.sourceDb.query(`UPDATE drivers SET updated_at = now() WHERE id = 1`);
  };

  beforeAll(async () => {
    await s.start({
      beforeConnector: async (db) => {
        await db.query(
          `INSERT INTO drivers (id, full_name, phone, vehicle_type, plate_number, status, home_zone_id) VALUES (1, 'Alert Test', '+8490', 'car', '51A-1', 'available', 1)`,
        );
      },
    });
    worker = await s.startWorker();
    prom = await TestPrometheus.start(`127.0.0.1:${worker.port}`);
    await prom.waitTargetUp(30_000);
  });
  afterAll(async () => {
    await prom?.stop();
    await s.stop();
    process.stderr.write(`[alerts] summary:\n  ${seen.join('\n  ')}\n`);
  });

  it('a poison message fires RideCdcDeadLettersRising', async () => {
    const topic = `${s.topicPrefix}.public.drivers`;
    expect(await prom.alerts()).not.toContainEqual(
      expect.objectContaining({ labels: expect.objectContaining({ alertname: 'RideCdcDeadLettersRising' }) }),
    );
    const producer = s.kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: 'poison', value: Buffer.from('not avro'), partition: 0 }],
    });
    await producer.disconnect();
    const sent = new Date();
    const { alert, seenAt } = await prom.waitFiring('RideCdcDeadLettersRising', 120_000, {
      labels: { topic },
    });
    note(
      `RideCdcDeadLettersRising firing at ${seenAt.toISOString()} (poison sent ${sent.toISOString()}, active since ${alert.activeAt}, reason ${alert.labels.reason})`,
    );
    expect(alert.labels.reason).toBe('bad-wire-format');
    expect(alert.labels.severity).toBe('warning');
  });

  it('Elasticsearch stopped fires RideCdcNotReady; it resolves after the restart', async () => {
    await stopComponent(s.stack, 'elasticsearch');
    const stopped = new Date();
    let firing: Awaited<ReturnType<TestPrometheus['waitFiring']>>;
    try {
      // The worker only finds out by writing: keep source changes flowing during the outage.
      firing = await prom.waitFiring('RideCdcNotReady', 180_000, { during: touchDriver });
      note(
        `RideCdcNotReady firing at ${firing.seenAt.toISOString()} (Elasticsearch stopped ${stopped.toISOString()}, active since ${firing.alert.activeAt})`,
      );
      const sink = (await prom.alerts()).filter((a) => a.labels.alertname === 'RideCdcSinkFailures');
      note(
        `RideCdcSinkFailures at that moment: ${sink.map((a) => `${a.state} ${a.labels.sink}/${a.labels.kind}`).join(', ') || 'not active'}`,
      );
    } finally {
      await startComponent(s.stack, 'elasticsearch');
    }
    const restarted = new Date();
    await touchDriver();
    const resolvedAt = await prom.waitResolved('RideCdcNotReady', 180_000, { during: touchDriver });
    note(
      `RideCdcNotReady resolved at ${resolvedAt.toISOString()} (Elasticsearch healthy again ${restarted.toISOString()})`,
    );
    expect((await worker.get('/readyz')).status).toBe(200);
  });

  it('capture paused fires RideCdcCaptureStalled', async () => {
    // Contract with the capture watcher (gauge ride_cdc_capture_freshness_seconds{table}); the
    // rule is part of compose/prometheus/alerts.yml once that work is merged.
    expect(
      await prom.ruleNames(),
      'RideCdcCaptureStalled must be in compose/prometheus/alerts.yml',
    ).toContain('RideCdcCaptureStalled');
    const pause = await fetch(`${connectUrl(s.stack)}/connectors/${s.connector}/pause`, { method: 'PUT' });
    expect(pause.status).toBe(202);
    const paused = new Date();
    try {
      const { alert, seenAt } = await prom.waitFiring('RideCdcCaptureStalled', 420_000);
      note(
        `RideCdcCaptureStalled firing at ${seenAt.toISOString()} for table ${alert.labels.table} (connector paused ${paused.toISOString()}, active since ${alert.activeAt})`,
      );
      expect(alert.labels.severity).toBe('critical');
    } finally {
      await fetch(`${connectUrl(s.stack)}/connectors/${s.connector}/resume`, { method: 'PUT' });
    }
    await sleep(1000);
    const resolvedAt = await prom.waitResolved('RideCdcCaptureStalled', 180_000, { during: touchDriver });
    note(`RideCdcCaptureStalled resolved at ${resolvedAt.toISOString()} after resume`);
  });
});
