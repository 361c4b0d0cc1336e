import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, ensureDatabase, quoteIdent, type PgSettings } from '../../src/db/pg.js';
import { TOAST_PLACEHOLDER } from '../../src/decode/logical-types.js';
import { benchConnectPlugins } from '../../src/stack/artifacts.js';
import { paths } from '../../src/stack/config.js';
import { javaBin, kafkaClasspath, writeLog4j } from '../../src/stack/components/kafka.js';
import { registryUrl } from '../../src/stack/components/registry.js';
import { ensureBundle } from '../../src/stack/maven.js';
import { freePort, type Scenario } from '../../src/stack/scenario.js';
import { dropDatabase } from './ride-cdc-drain.js';
import { peerResult, type PeerResult } from './peer-result.js';
import { sampleProcesses } from './proc-stats.js';

export interface JdbcSinkOptions {
  tasks: number;
  batchSize: number;
}

const TABLES = ['zones', 'passengers', 'drivers', 'driver_locations', 'bookings', 'payments', 'ratings'];

/** The Avro converter settings of connectors/ride-hailing-postgres.json, for reading what it wrote. */
function converter(prefix: 'key' | 'value', url: string): Record<string, string> {
  const c = `${prefix}.converter`;
  return {
    [c]: 'io.apicurio.registry.utils.converter.AvroConverter',
    [`${c}.apicurio.registry.url`]: url,
    [`${c}.apicurio.registry.headers.enabled`]: 'false',
    [`${c}.apicurio.registry.id-handler`]: 'io.apicurio.registry.serde.Default4ByteIdHandler',
    [`${c}.apicurio.registry.use-id`]: 'contentId',
  };
}

const props = (o: Record<string, string | number>) =>
  `${Object.entries(o)
    .map(([k, v]) => `${k}=${String(v).replaceAll('\\', '\\\\')}`)
    .join('\n')}\n`;

/**
 * Debezium's JDBC sink connector mirroring the raw tables into a scratch database: the plain
 * Kafka → PostgreSQL reference. Runs in its own standalone Connect worker (the plugin dir is the
 * bench's, see benchConnectPlugins), so the shared stack's Connect is untouched. Timed from the
 * task RUNNING to the group's committed offsets reaching the end of every topic; equal to truth
 * when every table holds exactly the source's primary keys.
 */
export async function jdbcSinkPeer(s: Scenario, total: number, opts: JdbcSinkOptions): Promise<PeerResult> {
  const pluginDir = await ensureBundle(benchConnectPlugins, s.stack.dir);
  const excluded = await jsonbColumns(s);
  const dir = await mkdtemp(join(tmpdir(), 'ride-cdc-jdbc-sink-'));
  const scratch: PgSettings = { ...s.reporting, database: `${s.reporting.database}_jdbc` };
  await ensureDatabase(scratch);
  const port = await freePort();
  const name = `${s.id}-jdbc-sink`;
  await writeLog4j(join(dir, 'log4j2.properties'));
  await writeFile(
    join(dir, 'worker.properties'),
    props({
      'bootstrap.servers': `127.0.0.1:${s.stack.ports.kafka}`,
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'offset.storage.file.filename': join(dir, 'offsets'),
      'offset.flush.interval.ms': 1000,
      'plugin.path': `${pluginDir},${resolve(paths(s.stack).dist, 'connect-plugins')}`,
      listeners: `http://127.0.0.1:${port}`,
      'consumer.max.poll.records': opts.batchSize,
      'consumer.auto.offset.reset': 'earliest',
    }),
  );
  await writeFile(
    join(dir, 'sink.properties'),
    props({
      name,
      'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
      'tasks.max': opts.tasks,
      topics: TABLES.map((t) => `${s.topicPrefix}.public.${t}`).join(','),
      'connection.url': `jdbc:postgresql://${scratch.host}:${scratch.port}/${scratch.database}`,
      'connection.username': scratch.user,
      'connection.password': scratch.password,
      'insert.mode': 'upsert',
      'delete.enabled': 'true',
      'primary.key.mode': 'record_key',
      'schema.evolution': 'basic',
      'collection.name.format': '${source.table}',
      'batch.size': opts.batchSize,
      // The sink writes Debezium's unavailable-value placeholder of an unchanged TOASTed value
      // as it is, which a jsonb column refuses (the task fails); those columns are not mirrored.
      ...(excluded.length > 0
        ? {
            'field.exclude.list': excluded
              .map((c) => `${s.topicPrefix}.public.${c.table}:${c.column}`)
              .join(','),
          }
        : {}),
      ...converter('key', `${registryUrl(s.stack)}/apis/registry/v3`),
      ...converter('value', `${registryUrl(s.stack)}/apis/registry/v3`),
    }),
  );
  let child: ChildProcess | undefined;
  let log = '';
  const sampler = sampleProcesses(() => (child?.pid ? [child.pid] : []));
  try {
    child = spawn(
      javaBin(s.stack),
      [
        '-Xms256m',
        `-Xmx${s.stack.heap.connect}`,
        '-XX:+UseG1GC',
        `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
        '-cp',
        kafkaClasspath(s.stack),
        'org.apache.kafka.connect.cli.ConnectStandalone',
        join(dir, 'worker.properties'),
        join(dir, 'sink.properties'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (b: Buffer) => (log = (log + b.toString()).slice(-30_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const alive = () => {
      if (child!.exitCode !== null) throw new Error(`Connect standalone exited ${child!.exitCode}:\n${log}`);
    };
    /** true once every task runs; throws when one failed (a failed task never resumes by itself). */
    const running = async (): Promise<boolean> => {
      const st = await fetch(`http://127.0.0.1:${port}/connectors/${name}/status`)
        .then((r) => (r.ok ? (r.json() as Promise<{ tasks: { state: string; trace?: string }[] }>) : null))
        .catch(() => null);
      const failed = st?.tasks.find((t) => t.state === 'FAILED');
      if (failed) throw new Error(`JDBC sink task failed: ${failed.trace?.slice(0, 4000)}`);
      return !!st && st.tasks.length > 0 && st.tasks.every((t) => t.state === 'RUNNING');
    };
    // The processing span starts when the sink tasks run.
    for (;;) {
      alive();
      if (await running()) break;
      await sleep(200);
    }
    const started = performance.now();
    const admin = s.kafka.admin();
    await admin.connect();
    try {
      let last = -1;
      let progressAt = Date.now();
      for (;;) {
        alive();
        await running();
        const offs = await admin.fetchOffsets({ groupId: `connect-${name}` });
        const done = offs.flatMap((t) => t.partitions).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
        if (done >= total) break;
        if (done !== last) [last, progressAt] = [done, Date.now()];
        else if (Date.now() - progressAt > 120_000)
          throw new Error(
            `JDBC sink: no offsets committed for 120 s at ${done}/${total}:\n${log.slice(-3000)}`,
          );
        await sleep(200);
      }
    } finally {
      await admin.disconnect();
    }
    const seconds = (performance.now() - started) / 1000;
    const usage = sampler.stop();
    const mismatched = await compareTables(s, scratch);
    return peerResult({
      name: `Debezium JDBC sink ${'3.4.0.Final'} (raw tables, ${opts.tasks} tasks, batch ${opts.batchSize})`,
      kind: 'debezium-jdbc',
      events: total,
      seconds,
      cpuSeconds: usage.cpuSeconds,
      peakRssBytes: usage.peakRssBytes,
      equalToTruth: mismatched.length === 0,
      note:
        (mismatched.length === 0
          ? 'every table holds exactly the source primary keys, no placeholder values'
          : `tables differing from the source: ${mismatched.join(', ')}`) +
        (excluded.length > 0
          ? `; not mirrored (jsonb refuses the TOAST placeholder): ${excluded.map((c) => `${c.table}.${c.column}`).join(', ')}`
          : ''),
      extra: { startupIncluded: false, excludedColumns: excluded },
    });
  } finally {
    sampler.stop();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child!.once('exit', r)), sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
    await dropDatabase(scratch);
  }
}

/** The mirrored tables' jsonb columns. */
async function jsonbColumns(s: Scenario): Promise<{ table: string; column: string }[]> {
  const r = await s.sourceDb.query<{ table: string; column: string }>(
    `SELECT table_name AS table, column_name AS column FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = ANY($1) AND data_type = 'jsonb' ORDER BY 1, 2`,
    [TABLES],
  );
  return r.rows;
}

/**
 * Tables whose set of primary keys (count and digest) differs between source and mirror, or whose
 * mirror holds Debezium's unavailable-value placeholder (an unchanged TOASTed value written as is).
 */
async function compareTables(s: Scenario, scratch: PgSettings): Promise<string[]> {
  const db = createClient(scratch);
  await db.connect();
  try {
    const bad: string[] = [];
    for (const t of TABLES) {
      const pk = (
        await s.sourceDb.query<{ col: string }>(
          `SELECT a.attname AS col FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = $1::regclass AND i.indisprimary`,
          [`public.${t}`],
        )
      ).rows[0]!.col;
      const q = `SELECT count(*)::text AS n, coalesce(md5(string_agg(${quoteIdent(pk)}::text, ',' ORDER BY ${quoteIdent(pk)})), '') AS h FROM public.${quoteIdent(t)}`;
      const a = (await s.sourceDb.query<{ n: string; h: string }>(q)).rows[0]!;
      const b = await db
        .query<{ n: string; h: string }>(q)
        .then((r) => r.rows[0]!)
        .catch(() => ({ n: 'missing', h: '' }));
      if (a.n !== b.n || a.h !== b.h) {
        bad.push(`${t} (${b.n} of ${a.n} rows)`);
        continue;
      }
      const placeholders = await db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM public.${quoteIdent(t)} x WHERE strpos(x::text, $1) > 0`,
        [TOAST_PLACEHOLDER],
      );
      if (placeholders.rows[0]!.n !== '0')
        bad.push(`${t} (${placeholders.rows[0]!.n} rows hold the TOAST placeholder)`);
    }
    return bad;
  } finally {
    await db.end();
  }
}
