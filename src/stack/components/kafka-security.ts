import { readFileSync } from 'node:fs';
import { type KafkaConfig, Kafka, logLevel } from 'kafkajs';
import { type StackConfig, paths } from '../config.js';
import { writePrivateFile } from '../private-file.js';
import type { Principal, StackSecurity } from '../security.js';
import { type KafkaUsers, type PipelineNames, connectAcls, grantPipeline } from './kafka-acls.js';

export { CONNECT_GROUP, CONNECT_INTERNAL_TOPIC_PREFIX, type PipelineNames } from './kafka-acls.js';
import { SERVER_CERT_CN, ensureTls, tlsFiles } from '../tls.js';
import type { RunAs } from '../user.js';

/**
 * Kafka in the secured stack: the client listener speaks SASL_SSL with SCRAM-SHA-512, the
 * controller listener SSL with required client certificates (KRaft keeps SCRAM credentials in the
 * metadata log, so controllers cannot use SCRAM themselves), and StandardAuthorizer denies what no
 * ACL allows. Kept apart from kafka.ts, which only asks this file to transform its settings.
 */

const SCRAM = 'SCRAM-SHA-512';
/** The broker's own identity on the controller listener: its certificate's subject. */
const BROKER_CERT_PRINCIPAL = `User:CN=${SERVER_CERT_CN}`;

const jaas = (p: Principal) =>
  `org.apache.kafka.common.security.scram.ScramLoginModule required username="${p.user}" password="${p.password}";`;

/**
 * The secured variant of one node's server.properties: every PLAINTEXT listener becomes SASL_SSL
 * (same address), CONTROLLER becomes SSL with client auth. Works on any node's settings, so a
 * multi-broker layout only has to call it once per node. Open stack: returned unchanged.
 */
export async function secureKafkaSettings(
  cfg: StackConfig,
  settings: Record<string, string | number>,
): Promise<Record<string, string | number>> {
  const sec = cfg.security;
  if (!sec) return settings;
  const tls = await ensureTls(cfg);
  const rename = (v: string | number | undefined) =>
    String(v ?? '').replaceAll('PLAINTEXT://', 'SASL_SSL://');
  return {
    ...settings,
    listeners: rename(settings.listeners),
    'advertised.listeners': rename(settings['advertised.listeners']),
    'inter.broker.listener.name': 'SASL_SSL',
    'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,CONTROLLER:SSL',
    'sasl.enabled.mechanisms': SCRAM,
    'sasl.mechanism.inter.broker.protocol': SCRAM,
    [`listener.name.sasl_ssl.${SCRAM.toLowerCase()}.sasl.jaas.config`]: jaas(sec.kafka.admin),
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': tls.serverPem,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': tls.caCert,
    'listener.name.controller.ssl.client.auth': 'required',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': 'false',
    'super.users': `User:${sec.kafka.admin.user};${BROKER_CERT_PRINCIPAL}`,
  };
}

/**
 * kafka-storage format arguments that bootstrap the SCRAM credentials (KRaft stores them in the
 * metadata log). They hold passwords, so they go into a private java @argfile instead of the
 * command line (/proc/<pid>/cmdline is world-readable); the caller deletes it afterwards.
 */
export async function formatArgv(
  cfg: StackConfig,
  argv: string[],
  file: string,
  runAs?: RunAs,
): Promise<string[]> {
  const sec = cfg.security;
  if (!sec) return argv;
  const users = [sec.kafka.admin, sec.kafka.connect, sec.kafka.worker];
  const all = [
    ...argv,
    ...users.flatMap((u) => ['--add-scram', `${SCRAM}=[name=${u.user},password=${u.password}]`]),
  ];
  // One argument per line, quoted (java @argfile syntax); passwords hold no quotes (security.ts).
  await writePrivateFile(file, `${all.map((a) => `"${a}"`).join('\n')}\n`, runAs);
  return [`@${file}`];
}

/** kafkajs options for a stack client: TLS with the stack's CA, SCRAM as `principal` (default admin). */
export function kafkaClientOptions(cfg: StackConfig, principal?: Principal): Partial<KafkaConfig> {
  const sec = cfg.security;
  if (!sec) return {};
  const p = principal ?? sec.kafka.admin;
  return {
    ssl: { ca: [readFileSync(tlsFiles(cfg).caCert, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: p.user, password: p.password },
  };
}

/** The worker's Kafka settings as its environment variables (src/config/worker-config.ts). */
export function workerKafkaEnv(cfg: StackConfig): Record<string, string> {
  const sec = cfg.security;
  if (!sec) return {};
  return {
    KAFKA_SSL: 'true',
    KAFKA_TLS_CA_FILE: tlsFiles(cfg).caCert,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: sec.kafka.worker.user,
    KAFKA_SASL_PASSWORD: sec.kafka.worker.password,
  };
}

/** Kafka Connect's client settings (worker, and its producer/consumer/admin clients). */
export function connectKafkaSettings(cfg: StackConfig): Record<string, string> {
  const sec = cfg.security;
  if (!sec) return {};
  const client = {
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': SCRAM,
    'sasl.jaas.config': jaas(sec.kafka.connect),
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': tlsFiles(cfg).caCert,
  };
  return Object.fromEntries(
    ['', 'producer.', 'consumer.', 'admin.'].flatMap((prefix) =>
      Object.entries(client).map(([k, v]) => [`${prefix}${k}`, v]),
    ),
  );
}

/**
 * Grants one pipeline as the admin and creates its CDC topics up front: the worker creates the
 * topics of quiet tables itself on the open stack, but here it may only read them.
 */
export async function provisionPipeline(cfg: StackConfig, n: PipelineNames): Promise<void> {
  const sec = cfg.security;
  if (!sec) return;
  const admin = new Kafka({
    clientId: 'ride-cdc-stack',
    brokers: [`127.0.0.1:${cfg.ports.kafka}`],
    logLevel: logLevel.NOTHING,
    ...kafkaClientOptions(cfg),
  }).admin();
  await admin.connect();
  try {
    await grantPipeline(admin, kafkaUsers(sec), n);
  } finally {
    await admin.disconnect();
  }
}

/**
 * After the broker is healthy: Connect's own ACLs and the default pipeline's, then a login as each
 * SCRAM principal (credentials are fixed when the data directory is formatted: a changed password
 * must fail here, loudly, not at the first worker start).
 */
export async function provisionKafka(cfg: StackConfig): Promise<void> {
  const sec = cfg.security;
  if (!sec) return;
  const admin = new Kafka({
    clientId: 'ride-cdc-stack',
    brokers: [`127.0.0.1:${cfg.ports.kafka}`],
    logLevel: logLevel.NOTHING,
    ...kafkaClientOptions(cfg),
  }).admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: connectAcls(sec.kafka.connect.user) });
  } finally {
    await admin.disconnect();
  }
  await provisionPipeline(cfg, {
    topicPrefix: process.env.KAFKA_TOPIC_PREFIX || 'ride',
    dlqTopic: process.env.DLQ_TOPIC || 'ride-cdc.dlq',
    groupId: process.env.KAFKA_GROUP_ID || 'ride-cdc-worker',
  });
  for (const [variable, p] of [
    ['STACK_KAFKA_CONNECT_PASSWORD', sec.kafka.connect],
    ['STACK_KAFKA_WORKER_PASSWORD', sec.kafka.worker],
  ] as const) {
    const probe = new Kafka({
      clientId: 'ride-cdc-stack',
      brokers: [`127.0.0.1:${cfg.ports.kafka}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      ...kafkaClientOptions(cfg, p),
    }).admin();
    try {
      await probe.connect();
    } catch (err) {
      throw new Error(
        `Kafka refused ${p.user} (${(err as Error).message}): its SCRAM credential was set when ${paths(cfg).data}/kafka was formatted and ${variable} differs; stop Kafka and delete that directory to reformat`,
      );
    } finally {
      await probe.disconnect();
    }
  }
}

/** The principals the ACLs name. */
export function kafkaUsers(sec: StackSecurity): KafkaUsers {
  return { connect: sec.kafka.connect.user, worker: sec.kafka.worker.user };
}
