import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  newClusterId,
  bootstrapServers,
  clusterTopology,
  connectClusterSettings,
  kafkaNodes,
  nodeSettings,
} from '../../src/stack/components/kafka-cluster.js';
import { loadStackConfig } from '../../src/stack/config.js';
import { componentNames, components } from '../../src/stack/index.js';

const cfgFor = (env: Record<string, string>) =>
  loadStackConfig({ STACK_DIR: mkdtempSync(join(tmpdir(), 'kc-')), ...env });

describe('Kafka cluster topology', () => {
  it('a new stack has one node on the configured ports, replication 1', () => {
    const cfg = cfgFor({ KAFKA_PORT: '9192', KAFKA_CONTROLLER_PORT: '9193' });
    expect(kafkaNodes(cfg).map((n) => n.name)).toEqual(['kafka']);
    expect(bootstrapServers(cfg)).toBe('127.0.0.1:9192');
    const s = nodeSettings(cfg, kafkaNodes(cfg)[0]!);
    expect(s['controller.quorum.voters']).toBe('1@127.0.0.1:9193');
    expect(s['default.replication.factor']).toBe(1);
    expect(s['min.insync.replicas']).toBe(1);
  });

  it('--brokers 3: three voters, RF 3 / min ISR 2, every bootstrap server for Connect, acks=all', () => {
    const cfg = cfgFor({ STACK_KAFKA_BROKERS: '3' });
    const nodes = kafkaNodes(cfg);
    expect(nodes.map((n) => [n.name, n.port, n.controllerPort])).toEqual([
      ['kafka', 9092, 9093],
      ['kafka-2', 9094, 9095],
      ['kafka-3', 9096, 9097],
    ]);
    const s = nodeSettings(cfg, nodes[1]!);
    expect(s['node.id']).toBe(2);
    expect(s['controller.quorum.voters']).toBe('1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097');
    expect(s['log.dirs']).toMatch(/data\/kafka-2$/);
    expect([
      s['default.replication.factor'],
      s['min.insync.replicas'],
      s['offsets.topic.replication.factor'],
    ]).toEqual([3, 2, 3]);
    const c = connectClusterSettings(cfg);
    expect(c['bootstrap.servers']).toBe('127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096');
    expect(c['producer.acks']).toBe('all');
    expect(c['producer.enable.idempotence']).toBe('true');
    expect(c['offset.storage.replication.factor']).toBe(3);
    expect(componentNames(cfg)).toContain('kafka-3');
    // Connect waits for every node, the nodes for nothing (a quorum needs them together).
    const byName = new Map(components(cfg).map((x) => [x.name, x]));
    expect(byName.get('connect')!.dependsOn).toEqual(['kafka', 'kafka-2', 'kafka-3']);
    expect(byName.get('kafka-2')!.dependsOn).toEqual([]);
  });

  it('remembers the formatted size and refuses a different one', async () => {
    const cfg = cfgFor({ STACK_KAFKA_BROKERS: '3' });
    const t = await clusterTopology(cfg);
    expect(t.brokers).toBe(3);
    expect(t.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const later = loadStackConfig({ STACK_DIR: cfg.dir });
    expect(kafkaNodes(later)).toHaveLength(3);
    await expect(
      clusterTopology(loadStackConfig({ STACK_DIR: cfg.dir, STACK_KAFKA_BROKERS: '1' })),
    ).rejects.toThrow(/formatted for 3 broker\(s\), not 1/);
  });
});

describe("Debezium's producer: one request in flight (docs/capture.md, KAFKA-15591)", () => {
  it('the connector overrides it to 1 and the worker config never raises it', () => {
    const c = JSON.parse(readFileSync('connectors/ride-hailing-postgres.json', 'utf8')) as {
      config: Record<string, string>;
    };
    expect(c.config['producer.override.max.in.flight.requests.per.connection']).toBe('1');
    for (const brokers of ['1', '3']) {
      const s = connectClusterSettings(cfgFor({ STACK_KAFKA_BROKERS: brokers }));
      const inFlight = s['producer.max.in.flight.requests.per.connection'];
      // Absent means Connect's own default for source tasks, which is 1.
      expect(inFlight === undefined || Number(inFlight) === 1).toBe(true);
      expect(s['producer.enable.idempotence']).toBe('true');
    }
  });
});

describe('newClusterId', () => {
  it('never starts with "-", which kafka-storage would read as an option', () => {
    for (let i = 0; i < 5000; i++) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});
