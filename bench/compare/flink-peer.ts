import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type PgSettings } from '../../src/db/pg.js';
import { ensureDatabase } from '../../src/db/pg.js';
import type { MetricRow } from '../../src/project/metrics/truth-sql.js';
import { ccompatUrl } from '../../src/stack/components/registry.js';
import type { Scenario } from '../../src/stack/scenario.js';
import { diffKpiSubset } from './kpi-subset.js';
import { dropDatabase } from './ride-cdc-drain.js';
import { peerResult, type PeerResult } from './peer-result.js';
import { sampleProcesses } from './proc-stats.js';

const FLINK_DIR = join(import.meta.dirname, '../flink');

/** Java 17 closes the JDK internals Flink's serializers reach into; Flink's own scripts open the same. */
const JVM_OPENS = [
  'java.base/java.lang',
  'java.base/java.lang.reflect',
  'java.base/java.util',
  'java.base/java.util.concurrent',
  'java.base/java.net',
  'java.base/java.io',
  'java.base/java.nio',
  'java.base/java.text',
  'java.base/java.time',
  'java.base/sun.nio.ch',
].map((p) => `--add-opens=${p}=ALL-UNNAMED`);

function run(cmd: string, args: string[], cwd: string, onPid?: (pid: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid) onPid?.(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-20_000)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new Error(`${cmd} ${args.slice(-8).join(' ')} exited ${code}:\n${out.slice(-5000)}\n${err}`),
          ),
    );
  });
}

const mtime = (f: string) => (existsSync(f) ? statSync(f).mtimeMs : null);

/**
 * bench/flink is built with its own pom on first use (Maven Central through mvn), and again when
 * the pom or the job's source is newer than the build.
 */
async function ensureBuilt(): Promise<string> {
  const cp = join(FLINK_DIR, 'target/classpath.txt');
  // Written after a successful build: mvn leaves an unchanged classpath.txt or class file as it was.
  const marker = join(FLINK_DIR, 'target/.built');
  const built = mtime(marker) ?? -1;
  const inputs = [join(FLINK_DIR, 'pom.xml'), join(FLINK_DIR, 'src/main/java/ridecdc/bench/KpiJob.java')];
  if (inputs.some((f) => (mtime(f) ?? 0) > built)) {
    console.log('compare:   building bench/flink with mvn …');
    // STACK_MAVEN_REPO: the same separate local repository src/stack/maven.ts honours.
    const repo = process.env.STACK_MAVEN_REPO ? [`-Dmaven.repo.local=${process.env.STACK_MAVEN_REPO}`] : [];
    await run('mvn', ['-q', '-B', '-ntp', ...repo, 'package'], FLINK_DIR);
    writeFileSync(marker, `${new Date().toISOString()}\n`);
  }
  return `${join(FLINK_DIR, 'target/classes')}:${readFileSync(cp, 'utf8').trim()}`;
}

/**
 * Flink SQL 2.0 in a local MiniCluster computing the KPI subset from the bookings topic into a
 * scratch database; the rows are then compared with truth SQL for those KPIs (dimensions 'all'
 * and 'zone:*'). events/s is over the bookings events it reads, in its processing span.
 */
export async function flinkPeer(s: Scenario, parallelism: number): Promise<PeerResult> {
  const classpath = await ensureBuilt();
  const topic = `${s.topicPrefix}.public.bookings`;
  const admin = s.kafka.admin();
  await admin.connect();
  const events = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  await admin.disconnect();
  const scratch: PgSettings = { ...s.reporting, database: `${s.reporting.database}_flink` };
  await ensureDatabase(scratch);
  const db = createClient(scratch);
  await db.connect();
  try {
    await db.query(`CREATE TABLE flink_kpi (metric_name text, bucket_granularity text, bucket text, dimension text,
      numerator numeric, denominator bigint, PRIMARY KEY (metric_name, bucket_granularity, bucket, dimension))`);
    let pid = 0;
    const sampler = sampleProcesses(() => (pid ? [pid] : []));
    const out = await run(
      'java',
      [
        '-Xmx1g',
        ...JVM_OPENS,
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        classpath,
        'ridecdc.bench.KpiJob',
        `127.0.0.1:${s.stack.ports.kafka}`,
        topic,
        ccompatUrl(s.stack),
        `jdbc:postgresql://${scratch.host}:${scratch.port}/${scratch.database}`,
        scratch.user,
        scratch.password,
        String(parallelism),
      ],
      FLINK_DIR,
      (p) => (pid = p),
    );
    const sampled = sampler.stop();
    const line = out.split('\n').find((l) => l.startsWith('{"setupSeconds"'));
    if (!line) throw new Error(`Flink peer printed no result:\n${out.slice(-3000)}`);
    const r = JSON.parse(line) as {
      setupSeconds: number;
      submitSeconds: number;
      processingSeconds: number;
      spanFrom: string;
      totalSeconds: number;
      cpuSeconds: number;
      peakRssBytes: number;
    };
    const flinkRows = (
      await db.query<MetricRow>(`SELECT metric_name, bucket_granularity,
          (bucket || CASE bucket_granularity WHEN 'HOUR' THEN ':00:00Z' ELSE ':00Z' END)::timestamptz AS bucket_start,
          dimension, numerator, denominator,
          CASE metric_name WHEN 'avg_fare' THEN round(numerator / NULLIF(denominator, 0), 6) ELSE numerator END AS metric_value
        FROM flink_kpi`)
    ).rows;
    const { diffs, truthRows } = await diffKpiSubset(s.sourceDb, flinkRows);
    return peerResult({
      name: `Flink SQL 2.0.0 MiniCluster (KPI subset, parallelism ${parallelism})`,
      kind: 'flink',
      events,
      seconds: r.processingSeconds,
      cpuSeconds: r.cpuSeconds,
      peakRssBytes: Math.max(r.peakRssBytes, sampled.peakRssBytes),
      equalToTruth: diffs.length === 0 && truthRows > 0,
      note:
        `reads ${topic} only (${events} events); ` +
        (diffs.length === 0
          ? `${truthRows} KPI rows equal truth`
          : `${diffs.length} of ${truthRows} KPI rows differ`) +
        `; span from its ${r.spanFrom} to the job's end`,
      extra: { ...r, truthRows, flinkRows: flinkRows.length, firstDiffs: diffs.slice(0, 3) },
    });
  } finally {
    await db.end();
    await dropDatabase(scratch);
  }
}
