import type { WorkerConfig } from '../config/worker-config.js';
import { createClient, type PgSettings } from '../db/pg.js';
import { createLogger } from '../observe/logger.js';
import { createEsClient } from '../sink/elasticsearch/client.js';
import { createKafka } from '../source/kafka-client.js';
import type { StackConfig } from '../stack/config.js';
import { getConnectorStatus } from '../stack/connector.js';
import { errorMessage } from '../shared/errors.js';
import type { CheckRow } from './table.js';

/** Where `ride-cdc health` looks; every field comes from the same environment the worker reads. */
export interface HealthTargets {
  worker: WorkerConfig;
  stack: StackConfig;
  source: PgSettings;
  connector: string;
  slot: string;
  workerUrl: string;
  prometheusUrl: string;
}

const TIMEOUT_MS = 8000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, rej) =>
      setTimeout(() => rej(new Error(`${what}: no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref(),
    ),
  ]);
}

/** Runs one probe; a thrown error becomes a FAIL row with its message. */
async function check(
  component: string,
  probe: () => Promise<Omit<CheckRow, 'component'>>,
): Promise<CheckRow> {
  try {
    return { component, ...(await withTimeout(probe(), component)) };
  } catch (err) {
    return { component, status: 'fail', detail: errorMessage(err).split('\n')[0]!.slice(0, 200) };
  }
}

async function kafka(t: HealthTargets): Promise<Omit<CheckRow, 'component'>> {
  const admin = createKafka({ ...t.worker.kafka }, createLogger('fatal')).admin();
  await admin.connect();
  try {
    const c = await admin.describeCluster();
    return {
      status: 'ok',
      detail: `${c.brokers.length} broker(s) (${c.brokers.map((b) => `${b.host}:${b.port}`).join(', ')}), controller ${c.controller}`,
    };
  } finally {
    await admin.disconnect();
  }
}

async function connector(t: HealthTargets): Promise<Omit<CheckRow, 'component'>> {
  const s = await getConnectorStatus(t.stack, t.connector);
  if (!s) return { status: 'fail', detail: `${t.connector} is not registered (ride-cdc connector register)` };
  const tasks = s.tasks.map((x) => `task ${x.id} ${x.state}`).join(', ') || 'no tasks';
  const ok =
    s.connector.state === 'RUNNING' && s.tasks.length > 0 && s.tasks.every((x) => x.state === 'RUNNING');
  const hint = s.tasks.some((x) => x.state === 'FAILED') ? ' (ride-cdc connector restart)' : '';
  return { status: ok ? 'ok' : 'fail', detail: `${t.connector} ${s.connector.state}, ${tasks}${hint}` };
}

async function registry(t: HealthTargets): Promise<Omit<CheckRow, 'component'>> {
  const headers: Record<string, string> = {};
  if (t.worker.registry.username)
    headers.authorization = `Basic ${Buffer.from(`${t.worker.registry.username}:${t.worker.registry.password ?? ''}`).toString('base64')}`;
  const res = await fetch(`${t.worker.registry.url}/subjects`, {
    headers,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!res.ok) return { status: 'fail', detail: `GET /subjects → ${res.status}` };
  const subjects = (await res.json()) as string[];
  return { status: 'ok', detail: `${subjects.length} subject(s) at ${t.worker.registry.url}` };
}

async function elasticsearch(t: HealthTargets): Promise<Omit<CheckRow, 'component'>> {
  const es = createEsClient({ ...t.worker.elasticsearch, requestTimeoutMs: TIMEOUT_MS });
  try {
    const h = await es.cluster.health();
    const detail = `cluster ${h.cluster_name} ${h.status}, ${h.number_of_nodes} node(s), ${h.active_shards} active shard(s), ${h.unassigned_shards} unassigned`;
    // Yellow is the normal state of a single node (replicas cannot be placed): healthy.
    return { status: h.status === 'red' ? 'fail' : 'ok', detail };
  } finally {
    await es.close();
  }
}

async function sourceDb(t: HealthTargets): Promise<Omit<CheckRow, 'component'>> {
  const c = createClient(t.source);
  await c.connect();
  try {
    const slot = await c.query<{ active: boolean; lag: string | null }>(
      `SELECT active, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)) AS lag
       FROM pg_replication_slots WHERE slot_name = $1`,
      [t.slot],
    );
    const s = slot.rows[0];
    const where = `${t.source.database} on ${t.source.host}:${t.source.port}`;
    if (!s) return { status: 'fail', detail: `${where}: replication slot ${t.slot} does not exist` };
    return {
      status: s.active ? 'ok' : 'fail',
      detail: `${where}, slot ${t.slot} ${s.active ? 'active' : 'INACTIVE (nobody streams from it)'}, ${s.lag ?? '?'} behind`,
    };
  } finally {
    await c.end();
  }
}

async function reportingDb(t: HealthTargets): Promise<Omit<CheckRow, 'component'>> {
  const r = t.worker.reporting;
  const c = createClient({
    host: r.host,
    port: r.port,
    database: r.database,
    user: r.user,
    password: r.password,
  });
  await c.connect();
  try {
    const q = await c
      .query<{ n: number; ago: number | null }>(
        `SELECT count(*)::int AS n, extract(epoch FROM now() - max(updated_at))::float8 AS ago
         FROM mart.consumer_offsets WHERE group_id = $1`,
        [t.worker.kafka.groupId],
      )
      .catch((err: { code?: string }) => {
        if (err.code === '42P01')
          throw new Error(`${r.database}: schema mart missing (ride-cdc migrate --target reporting)`);
        throw err;
      });
    const row = q.rows[0]!;
    const last = row.ago === null ? 'no commit yet' : `last commit ${Math.round(row.ago)} s ago`;
    return {
      status: 'ok',
      detail: `${r.database} on ${r.host}:${r.port}, ${row.n} partition position(s), ${last}`,
    };
  } finally {
    await c.end();
  }
}

async function worker(t: HealthTargets): Promise<Omit<CheckRow, 'component'>> {
  let res: Response;
  try {
    res = await fetch(`${t.workerUrl}/readyz`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    return {
      status: 'fail',
      detail: `${t.workerUrl}/readyz unreachable (${errorMessage(err)}): is a worker running?`,
    };
  }
  const body = (await res.text()).replace(/\s+/g, ' ').slice(0, 160);
  return { status: res.status === 200 ? 'ok' : 'fail', detail: `/readyz ${res.status} ${body}` };
}

interface PromTarget {
  labels: { job: string; instance: string };
  health: string;
  lastError: string;
}

async function prometheus(t: HealthTargets): Promise<Omit<CheckRow, 'component'>> {
  let targets: PromTarget[];
  try {
    const res = await fetch(`${t.prometheusUrl}/api/v1/targets?state=active`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    targets = ((await res.json()) as { data: { activeTargets: PromTarget[] } }).data.activeTargets;
  } catch {
    return {
      status: 'warn',
      detail: `not reachable at ${t.prometheusUrl} (optional: ride-cdc stack up prometheus)`,
    };
  }
  const alerts = await fetch(`${t.prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(TIMEOUT_MS) })
    .then(
      async (r) =>
        ((await r.json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } }).data
          .alerts,
    )
    .catch(() => []);
  const down = targets.filter((x) => x.health !== 'up');
  const firing = [...new Set(alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname))];
  const parts = [`${targets.length - down.length}/${targets.length} targets up`];
  for (const d of down) parts.push(`${d.labels.job} ${d.labels.instance} ${d.health}: ${d.lastError}`);
  parts.push(firing.length ? `firing: ${firing.join(', ')}` : 'no alert firing');
  return {
    status: down.length > 0 || targets.length === 0 ? 'fail' : firing.length > 0 ? 'warn' : 'ok',
    detail: parts.join('; '),
  };
}

/** Every component in one table, probed in parallel. */
export function healthChecks(t: HealthTargets): Promise<CheckRow[]> {
  return Promise.all([
    check('kafka', () => kafka(t)),
    check('connector', () => connector(t)),
    check('registry', () => registry(t)),
    check('elasticsearch', () => elasticsearch(t)),
    check('source db', () => sourceDb(t)),
    check('reporting db', () => reportingDb(t)),
    check('worker', () => worker(t)),
    check('prometheus', () => prometheus(t)),
  ]);
}
