/**
 * compose one-shot of the secured stack (docker-compose.secure.yml): applies the Kafka ACLs and
 * creates the CDC topics, as the super user admin, with the native secured stack's own code
 * (src/stack/components/kafka-acls.ts): Connect may use its group and internal topics and write
 * `<prefix>.*` and heartbeats; the worker may read `<prefix>.public.*`, use its group and write its
 * dead-letter topic. Idempotent (ACLs are a set; existing topics are kept).
 * Runs with `node --import tsx` inside the ride-cdc image, mounted at /app/compose/scripts.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { connectAcls, grantPipeline } from '../../src/stack/components/kafka-acls.js';

/** Everything the job reads; a missing variable fails before anything is sent. */
export function aclJobSettings(env: NodeJS.ProcessEnv) {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`${name} is not set`);
    return v;
  };
  return {
    brokers: need('KAFKA_BROKERS').split(','),
    caFile: need('KAFKA_TLS_CA_FILE'),
    adminPassword: need('STACK_KAFKA_ADMIN_PASSWORD'),
    connect: { group: need('CONNECT_GROUP_ID'), topicPrefix: need('CONNECT_INTERNAL_TOPIC_PREFIX') },
    pipeline: {
      topicPrefix: need('KAFKA_TOPIC_PREFIX'),
      dlqTopic: need('DLQ_TOPIC'),
      groupId: need('KAFKA_GROUP_ID'),
    },
    users: { connect: 'connect', worker: 'ride-cdc-worker' },
  };
}

async function main(): Promise<void> {
  const s = aclJobSettings(process.env);
  const admin = new Kafka({
    clientId: 'ride-cdc-kafka-acls',
    brokers: s.brokers,
    logLevel: logLevel.WARN,
    ssl: { ca: [readFileSync(s.caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: 'admin', password: s.adminPassword },
  }).admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: connectAcls(s.users.connect, s.connect) });
    await grantPipeline(admin, s.users, s.pipeline);
  } finally {
    await admin.disconnect();
  }
  console.log(
    `kafka-acls: ACLs of connect and ${s.users.worker} applied, CDC topics of ${s.pipeline.topicPrefix} ready`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    console.error(`kafka-acls: ${err.message}`);
    process.exit(1);
  });
}
