import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type StackConfig, paths } from '../config.js';
import type { ComponentName } from './types.js';

/**
 * The Kafka topology of a native stack: one node, or a cluster of N nodes on loopback.
 *
 * Every node is a combined broker + controller (KRaft `process.roles=broker,controller`) with a
 * static quorum of all N voters. Combined rather than a separate controller quorum because this
 * machine has 2 cores: three JVMs instead of six, and the faults we test (kill -9 of a broker, of
 * the active controller) still happen for real — killing the active controller also kills a
 * broker, which is the harder case (a leader election in the metadata quorum and partition leader
 * moves at the same time), and 2 of 3 voters keep the quorum.
 *
 * With 3 or more nodes: replication factor 3 and min.insync.replicas 2 for every topic the brokers
 * create (Debezium's topics and the dead-letter topic are created with the broker defaults), for
 * the internal topics of the brokers and of Connect; producers use acks=all, so one broker may
 * be lost without losing an acknowledged write or blocking producers.
 *
 * The number of nodes is fixed when the data is formatted and recorded in data/kafka-cluster.json;
 * a later `up` without --brokers uses it, a different --brokers is refused (the data would not fit).
 */

export interface KafkaNode {
  /** KRaft node.id, 1-based. */
  id: number;
  name: ComponentName;
  port: number;
  controllerPort: number;
  /** conf/<name>, data/<name>: node 1 keeps the single-node paths, so existing stacks are unchanged. */
  confDir: string;
  dataDir: string;
}

interface Topology {
  brokers: number;
  clusterId: string;
}

const topologyFile = (cfg: StackConfig) => resolve(paths(cfg).data, 'kafka-cluster.json');

/** How many nodes this stack's data was formatted for, if it was. */
export function formattedBrokers(cfg: StackConfig): number | undefined {
  const f = topologyFile(cfg);
  if (existsSync(f)) return (JSON.parse(readFileSync(f, 'utf8')) as Topology).brokers;
  // Formatted before clusters existed: a single node.
  return existsSync(resolve(paths(cfg).data, 'kafka', 'meta.properties')) ? 1 : undefined;
}

export function brokerCount(cfg: StackConfig): number {
  return cfg.kafkaBrokers ?? formattedBrokers(cfg) ?? 1;
}

export function nodeName(id: number): ComponentName {
  return id === 1 ? 'kafka' : `kafka-${id}`;
}

export function kafkaNodes(cfg: StackConfig): KafkaNode[] {
  const p = paths(cfg);
  return Array.from({ length: brokerCount(cfg) }, (_, i) => {
    const name = nodeName(i + 1);
    return {
      id: i + 1,
      name,
      port: cfg.ports.kafka + 2 * i,
      controllerPort: cfg.ports.kafkaController + 2 * i,
      confDir: resolve(p.conf, name),
      dataDir: resolve(p.data, name),
    };
  });
}

/** Every bootstrap server, comma-separated: what the worker (KAFKA_BROKERS), `tail` and Connect get. */
export function bootstrapServers(cfg: StackConfig): string {
  return kafkaNodes(cfg)
    .map((n) => `127.0.0.1:${n.port}`)
    .join(',');
}

/** Replication factor and min ISR for a cluster of `brokers` nodes: 3/2 from three nodes on. */
export function replication(brokers: number): { factor: number; minIsr: number } {
  return { factor: Math.min(3, brokers), minIsr: brokers >= 3 ? 2 : 1 };
}

/** The per-node and per-cluster server.properties entries (kafka.ts owns everything else). */
export function nodeSettings(cfg: StackConfig, node: KafkaNode): Record<string, string | number> {
  const nodes = kafkaNodes(cfg);
  const { factor, minIsr } = replication(nodes.length);
  return {
    'node.id': node.id,
    'controller.quorum.voters': nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(','),
    'log.dirs': node.dataDir,
    'default.replication.factor': factor,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': factor,
    'transaction.state.log.replication.factor': factor,
    'transaction.state.log.min.isr': minIsr,
    'share.coordinator.state.topic.replication.factor': factor,
    'share.coordinator.state.topic.min.isr': minIsr,
    // A replica that fell out of the ISR must never become leader: it would drop acknowledged writes.
    'unclean.leader.election.enable': 'false',
  };
}

/** Connect's worker settings that depend on the cluster: every bootstrap server, replicated internal topics, acks=all. */
export function connectClusterSettings(cfg: StackConfig): Record<string, string | number> {
  const { factor } = replication(brokerCount(cfg));
  return {
    'bootstrap.servers': bootstrapServers(cfg),
    'config.storage.replication.factor': factor,
    'offset.storage.replication.factor': factor,
    'status.storage.replication.factor': factor,
    // Debezium's producers: a change event is acknowledged only once min ISR replicas have it, and
    // a retried send after a broker failure cannot duplicate within a partition. One request in
    // flight is Connect's default and the connector file sets it again (docs/capture.md: with 5,
    // a just-created topic could silently lose its first batch, KAFKA-15591).
    'producer.acks': 'all',
    'producer.enable.idempotence': 'true',
  };
}

const topologies = new Map<string, Promise<Topology>>();

/**
 * A random cluster id that does not start with '-': `kafka-storage format -t -x…` would read it as
 * an option (1 run in 64 failed that way). Kafka's own Uuid.randomUuid() avoids it likewise.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * The cluster id all nodes are formatted with, recording the topology on first use. Refuses a
 * node count that differs from the one the data was formatted for.
 */
export function clusterTopology(cfg: StackConfig): Promise<Topology> {
  const key = `${cfg.dir}#${brokerCount(cfg)}`;
  let pr = topologies.get(key);
  if (!pr) {
    pr = (async () => {
      const want = brokerCount(cfg);
      const have = formattedBrokers(cfg);
      if (have !== undefined && have !== want) {
        throw new Error(
          `this stack's Kafka data (${paths(cfg).data}) is formatted for ${have} broker(s), not ${want}: ` +
            `use another STACK_DIR, or \`stack down\` and remove ${paths(cfg).data}/kafka* (every topic is lost)`,
        );
      }
      const f = topologyFile(cfg);
      if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as Topology;
      const node1Meta = resolve(paths(cfg).data, 'kafka', 'meta.properties');
      // A KRaft cluster id is a base64url UUID (16 bytes, 22 chars).
      const clusterId = existsSync(node1Meta)
        ? /cluster\.id=(\S+)/.exec(readFileSync(node1Meta, 'utf8'))![1]!
        : newClusterId();
      const t: Topology = { brokers: want, clusterId };
      await mkdir(paths(cfg).data, { recursive: true });
      await writeFile(f, `${JSON.stringify(t)}\n`);
      return t;
    })();
    topologies.set(key, pr);
    pr.catch(() => topologies.delete(key));
  }
  return pr;
}

/**
 * Broker count a test run should use: an explicit STACK_KAFKA_BROKERS, else what the stack dir is
 * formatted for, else what is already serving on the Kafka port (another checkout's stack, adopted),
 * else 3 — the original deployment, so the broker fault scenarios have their cluster.
 */
export async function testBrokerCount(cfg: StackConfig): Promise<number> {
  const known = cfg.kafkaBrokers ?? formattedBrokers(cfg);
  if (known !== undefined) return known;
  const admin = new Kafka({
    clientId: 'ride-cdc-stack',
    brokers: [`127.0.0.1:${cfg.ports.kafka}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length;
  } catch {
    return 3;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
