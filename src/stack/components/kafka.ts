import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { ensureArtifacts } from '../artifacts.js';
import { type StackConfig, paths } from '../config.js';
import { type KafkaNode, clusterTopology, kafkaNodes, nodeSettings } from './kafka-cluster.js';
import type { Component } from './types.js';

const run = promisify(execFile);

export function javaBin(cfg: StackConfig): string {
  return resolve(cfg.javaHome, 'bin', 'java');
}

export function kafkaClasspath(cfg: StackConfig): string {
  return `${resolve(paths(cfg).dist, 'kafka', 'libs')}/*`;
}

/** A Kafka-style .properties file plus the Log4j configuration next to it. */
export async function writeJavaConfig(
  props: string,
  log4j: string,
  settings: Record<string, string | number | boolean>,
): Promise<void> {
  await writeFile(
    props,
    `${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  await writeLog4j(log4j);
}

/** Log4j 2 to stdout, which the stack redirects to logs/<component>.log. */
export async function writeLog4j(file: string): Promise<void> {
  await writeFile(
    file,
    [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = STDOUT',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.out.ref = STDOUT',
      // Noisy at INFO and useless for us.
      'logger.reflections.name = org.reflections',
      'logger.reflections.level = ERROR',
      '',
    ].join('\n'),
  );
}

/** One Kafka node (node 1 = the single-node stack); kafka-cluster.ts describes the topology. */
export function kafkaComponent(cfg: StackConfig, node: KafkaNode = kafkaNodes(cfg)[0]!): Component {
  const p = paths(cfg);
  const { confDir, dataDir, port, controllerPort: kafkaController } = node;
  const props = resolve(confDir, 'server.properties');
  const log4j = resolve(confDir, 'log4j2.properties');

  return {
    name: node.name,
    port,
    dependsOn: [],
    stopSignal: 'SIGTERM',
    async prepare() {
      const { clusterId } = await clusterTopology(cfg);
      await ensureArtifacts(cfg);
      await mkdir(confDir, { recursive: true });
      const settings: Record<string, string | number> = {
        // Single node, combined broker + controller (KRaft), static quorum of one.
        'process.roles': 'broker,controller',
        'node.id': 1,
        'controller.quorum.voters': `1@127.0.0.1:${kafkaController}`,
        listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${kafkaController}`,
        // 127.0.0.1 rather than localhost: clients must not try ::1 where nothing listens.
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
        'controller.listener.names': 'CONTROLLER',
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'log.dirs': dataDir,
        // Debezium topics are auto-created; 3 partitions so a consumer group can really scale out.
        'num.partitions': 3,
        'auto.create.topics.enable': 'true',
        'default.replication.factor': 1,
        'offsets.topic.replication.factor': 1,
        'offsets.topic.num.partitions': 10,
        'transaction.state.log.replication.factor': 1,
        'transaction.state.log.min.isr': 1,
        'share.coordinator.state.topic.replication.factor': 1,
        'share.coordinator.state.topic.min.isr': 1,
        // Tests create and join groups constantly; the 3 s default delay is pure waiting here.
        'group.initial.rebalance.delay.ms': 0,
        'log.retention.hours': 168,
        'delete.topic.enable': 'true',
        // node.id, quorum voters, log.dirs and replication for a multi-node cluster.
        ...nodeSettings(cfg, node),
      };
      await writeJavaConfig(props, log4j, settings);
      if (!existsSync(resolve(dataDir, 'meta.properties'))) {
        await mkdir(dataDir, { recursive: true });
        try {
          await run(
            javaBin(cfg),
            [
              '-Xmx256m',
              `-Dlog4j2.configurationFile=${log4j}`,
              '-cp',
              kafkaClasspath(cfg),
              'kafka.tools.StorageTool',
              'format',
              '-t',
              clusterId,
              '-c',
              props,
            ],
            { timeout: 120_000 },
          );
        } catch (err) {
          const e = err as { stdout?: string; stderr?: string; message: string };
          throw new Error(`kafka storage format failed: ${e.stderr || e.stdout || e.message}`);
        }
      }
    },
    startSpec() {
      return {
        command: javaBin(cfg),
        args: [
          `-Xms${cfg.heap.kafka}`,
          `-Xmx${cfg.heap.kafka}`,
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${log4j}`,
          '-cp',
          kafkaClasspath(cfg),
          'kafka.Kafka',
          props,
        ],
        logFile: p.log(node.name),
        pidFile: p.pid(node.name),
        match: props,
      };
    },
    async probe() {
      const admin = new Kafka({
        clientId: 'ride-cdc-stack',
        brokers: [`127.0.0.1:${port}`],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 2000,
        retry: { retries: 0 },
      }).admin();
      await admin.connect();
      try {
        const c = await admin.describeCluster();
        // In a cluster a node answers before it is registered (it waits for the quorum).
        if (!c.brokers.some((b) => b.nodeId === node.id))
          throw new Error(`node ${node.id} not registered yet`);
        return `${c.brokers.length} broker(s), controller ${c.controller}`;
      } finally {
        await admin.disconnect();
      }
    },
  };
}
