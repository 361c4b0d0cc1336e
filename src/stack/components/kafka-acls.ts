import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, {
  type AclOperationTypes as AclOperation,
  type AclPermissionTypes as AclPermission,
  type AclResourceTypes as AclResource,
  type Admin,
  type ResourcePatternTypes as ResourcePattern,
} from 'kafkajs';
import {
  SOURCE_TABLES,
  captureWatchGroupPrefix,
  heartbeatTopicFor,
  topicFor,
} from '../../config/worker-config.js';

// kafkajs is CommonJS: its enums are reachable through the default export only under ESM.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/**
 * The Kafka ACLs of a secured deployment and the admin calls that apply them: the one definition
 * the native secured stack (kafka-security.ts) and compose's kafka-init job
 * (compose/scripts/kafka-acls.mts) share. Principals are plain names, so nothing here needs the
 * stack's configuration or its secrets.
 */
export interface KafkaUsers {
  connect: string;
  worker: string;
}

export interface PipelineNames {
  /** Debezium topic.prefix: CDC topics are `<prefix>.public.<table>`. */
  topicPrefix: string;
  dlqTopic: string;
  groupId: string;
}

/** Kafka Connect's own group and internal topics (connect.ts names them `_connect-*`). */
export const CONNECT_GROUP = 'ride-cdc-connect';
export const CONNECT_INTERNAL_TOPIC_PREFIX = '_connect-';
/** Every pipeline's heartbeat topic starts with this. */
const HEARTBEAT_TOPIC_PREFIX = heartbeatTopicFor('');

export type Acl = {
  resourceType: AclResource;
  resourceName: string;
  resourcePatternType: ResourcePattern;
  principal: string;
  host: string;
  operation: AclOperation;
  permissionType: AclPermission;
};

function allow(
  principal: string,
  resourceType: AclResource,
  resourceName: string,
  pattern: ResourcePattern,
  operations: AclOperation[],
): Acl[] {
  return operations.map((operation) => ({
    resourceType,
    resourceName,
    resourcePatternType: pattern,
    principal: `User:${principal}`,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

const { TOPIC, GROUP } = AclResourceTypes;
const { LITERAL, PREFIXED } = ResourcePatternTypes;
const Op = AclOperationTypes;

/** What Kafka Connect needs for itself, whatever connectors it runs. */
export function connectAcls(
  c: string,
  internal: { group: string; topicPrefix: string } = {
    group: CONNECT_GROUP,
    topicPrefix: CONNECT_INTERNAL_TOPIC_PREFIX,
  },
): Acl[] {
  return [
    ...allow(c, GROUP, internal.group, LITERAL, [Op.READ]),
    ...allow(c, TOPIC, internal.topicPrefix, PREFIXED, [
      Op.READ,
      Op.WRITE,
      Op.DESCRIBE,
      Op.CREATE,
      Op.DESCRIBE_CONFIGS,
    ]),
    // Debezium's heartbeats: __debezium-heartbeat.<topic.prefix>.
    ...allow(c, TOPIC, HEARTBEAT_TOPIC_PREFIX, PREFIXED, [Op.WRITE, Op.DESCRIBE, Op.CREATE]),
  ];
}

/**
 * One pipeline's grants: Connect may write (and auto-create) `<prefix>.*`; the worker may read
 * `<prefix>.public.*`, use its own group, write (and create) its dead-letter topic, and, for its
 * capture watcher, read the pipeline's heartbeat topic in `<group>.capture-watch.*` groups.
 * Nothing else.
 */
export function pipelineAcls(users: KafkaUsers, n: PipelineNames): Acl[] {
  const c = users.connect;
  const w = users.worker;
  return [
    ...allow(c, TOPIC, `${n.topicPrefix}.`, PREFIXED, [Op.WRITE, Op.DESCRIBE, Op.CREATE]),
    ...allow(w, TOPIC, `${n.topicPrefix}.public.`, PREFIXED, [Op.READ, Op.DESCRIBE]),
    ...allow(w, GROUP, n.groupId, LITERAL, [Op.READ, Op.DESCRIBE]),
    ...allow(w, TOPIC, n.dlqTopic, LITERAL, [Op.WRITE, Op.DESCRIBE, Op.CREATE]),
    // The worker's capture watcher: Debezium's heartbeats, in groups of its own.
    ...allow(w, TOPIC, heartbeatTopicFor(n.topicPrefix), LITERAL, [Op.READ, Op.DESCRIBE]),
    ...allow(w, GROUP, captureWatchGroupPrefix(n.groupId), PREFIXED, [Op.READ, Op.DESCRIBE]),
  ];
}

/**
 * One pipeline's ACLs, then its CDC topics created up front (cluster defaults for partitions and
 * replication): on a secured cluster the worker may only read them.
 */
export async function grantPipeline(admin: Admin, users: KafkaUsers, n: PipelineNames): Promise<void> {
  await admin.createAcls({ acl: pipelineAcls(users, n) });
  // The heartbeat topic too: the watcher subscribes to it, and may not create it.
  const wanted = [...SOURCE_TABLES.map((t) => topicFor(n.topicPrefix, t)), heartbeatTopicFor(n.topicPrefix)];
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t));
  if (missing.length > 0) await admin.createTopics({ topics: missing.map((topic) => ({ topic })) });
  // kafkajs' own waitForLeaders gives up on the UNKNOWN_TOPIC_OR_PARTITION a just-created topic
  // answers for a moment on a busy broker; wait for every partition's leader here instead.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: wanted });
      if (topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics of ${n.topicPrefix} have no leaders after 60 s`);
    await sleep(300);
  }
}
