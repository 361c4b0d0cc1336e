import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { type StackConfig, paths } from '../config.js';
import { javaBin } from './kafka.js';
import { bootstrapServers } from './kafka-cluster.js';

const run = promisify(execFile);

/**
 * The KRaft metadata quorum as the controllers see it, through Admin#describeMetadataQuorum
 * (KIP-836). kafkajs has no DescribeQuorum, and the controller id of its Metadata response is a
 * random broker in KRaft mode, so this runs a few lines of Java against kafka-clients, compiled
 * once per stack with the JDK's javac (no extra artifact).
 */
const SOURCE = `
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.QuorumInfo;

public class QuorumStatus {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("request.timeout.ms", "5000");
    p.put("default.api.timeout.ms", "15000");
    try (Admin admin = Admin.create(p)) {
      QuorumInfo q = admin.describeMetadataQuorum().quorumInfo().get();
      StringBuilder voters = new StringBuilder();
      for (QuorumInfo.ReplicaState v : q.voters()) {
        if (voters.length() > 0) voters.append(',');
        voters.append(v.replicaId()).append(':').append(v.logEndOffset());
      }
      System.out.println("{\\"leaderId\\":" + q.leaderId() + ",\\"leaderEpoch\\":" + q.leaderEpoch()
          + ",\\"highWatermark\\":" + q.highWatermark() + ",\\"voters\\":\\"" + voters + "\\"}");
    }
  }
}
`;

export interface QuorumStatus {
  leaderId: number;
  leaderEpoch: number;
  highWatermark: number;
  /** voter id → log end offset */
  voters: Record<number, number>;
}

/** kafka-clients and slf4j-api only: scanning the whole broker classpath triples the JVM start. */
function clientClasspath(cfg: StackConfig): string {
  const libs = resolve(paths(cfg).dist, 'kafka', 'libs');
  return readdirSync(libs)
    .filter((f) => /^(kafka-clients|slf4j-api)-[\d.]+\.jar$/.test(f))
    .map((f) => resolve(libs, f))
    .join(':');
}

export async function describeQuorum(cfg: StackConfig): Promise<QuorumStatus> {
  const dir = resolve(paths(cfg).conf, 'tools');
  const file = resolve(dir, 'QuorumStatus.java');
  let stdout: string;
  try {
    // Compiled once per stack (javac ships with the JDK the stack runs on).
    if (!existsSync(resolve(dir, 'QuorumStatus.class')) || readFileSync(file, 'utf8') !== SOURCE) {
      await mkdir(dir, { recursive: true });
      await writeFile(file, SOURCE);
      await run(resolve(cfg.javaHome, 'bin', 'javac'), ['-cp', clientClasspath(cfg), '-d', dir, file], {
        timeout: 120_000,
      });
    }
    ({ stdout } = await run(
      javaBin(cfg),
      [
        '-Xmx128m',
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-cp',
        `${dir}:${clientClasspath(cfg)}`,
        'QuorumStatus',
        bootstrapServers(cfg),
      ],
      { timeout: 60_000 },
    ));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`describe metadata quorum failed: ${(e.stderr || e.stdout || e.message).slice(-2000)}`);
  }
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const raw = JSON.parse(line) as {
    leaderId: number;
    leaderEpoch: number;
    highWatermark: number;
    voters: string;
  };
  return {
    leaderId: raw.leaderId,
    leaderEpoch: raw.leaderEpoch,
    highWatermark: raw.highWatermark,
    voters: Object.fromEntries(
      raw.voters.split(',').map((v) => v.split(':').map(Number) as [number, number]),
    ),
  };
}
