import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ensureArtifacts } from '../artifacts.js';
import { type StackConfig, paths } from '../config.js';
import { httpGet } from '../health.js';
import { chownTree, serviceAccount } from '../user.js';
import { ELASTICSEARCH_VERSION } from '../versions.js';
import { esRequest, esSecuritySettings, prepareEsSecurity, provisionEs } from './elasticsearch-security.js';
import type { Component } from './types.js';

export function esUrl(cfg: StackConfig): string {
  return `${cfg.security ? 'https' : 'http'}://127.0.0.1:${cfg.ports.es}`;
}

export function elasticsearchComponent(cfg: StackConfig): Component {
  const p = paths(cfg);
  const home = resolve(p.dist, 'elasticsearch', `elasticsearch-${ELASTICSEARCH_VERSION}`);
  const dataDir = resolve(p.data, 'elasticsearch');
  const logDir = resolve(p.logs, 'elasticsearch');
  const runAs = serviceAccount(cfg.serviceUser);
  const esEnv = (): NodeJS.ProcessEnv => ({
    ...process.env,
    ES_JAVA_HOME: cfg.javaHome,
    JAVA_HOME: cfg.javaHome,
    ES_PATH_CONF: resolve(home, 'config'),
    HOME: dataDir,
  });

  return {
    name: 'elasticsearch',
    port: cfg.ports.es,
    dependsOn: [],
    stopSignal: 'SIGTERM',
    async prepare() {
      await ensureArtifacts(cfg);
      if (!existsSync(resolve(home, 'bin', 'elasticsearch'))) {
        throw new Error(
          `Elasticsearch distribution missing at ${home}; delete ${p.dist}/elasticsearch to re-resolve`,
        );
      }
      await mkdir(dataDir, { recursive: true });
      await mkdir(logDir, { recursive: true });
      // Leftovers of security auto-configuration (a keystore holding TLS passwords, certs/) make
      // ES refuse to boot once security is off; we keep no secure settings, so drop them.
      await rm(resolve(home, 'config', 'elasticsearch.keystore'), { force: true });
      await rm(resolve(home, 'config', 'certs'), { recursive: true, force: true });
      // Open stack: security off, plain HTTP, no credentials. Acceptable because the node binds
      // loopback only, which also keeps ES in development mode (bootstrap checks such as
      // vm.max_map_count are warnings, not fatal). Without an explicit setting the integ-test-zip's
      // x-pack-security module auto-configures TLS on first start and appends it to
      // elasticsearch.yml. Secured stack: see elasticsearch-security.ts.
      const yml = {
        ...esSecuritySettings(cfg),
        'cluster.name': 'ride-cdc',
        'node.name': 'ride-cdc-1',
        'discovery.type': 'single-node',
        'network.host': '127.0.0.1',
        'http.port': cfg.ports.es,
        'transport.port': cfg.ports.es + 100,
        'path.data': dataDir,
        'path.logs': logDir,
        // Developer disks are often fuller than the 85/90/95 % defaults allow; a read-only index
        // at 95 % would look like a worker bug.
        'cluster.routing.allocation.disk.watermark.low': '97%',
        'cluster.routing.allocation.disk.watermark.high': '98%',
        'cluster.routing.allocation.disk.watermark.flood_stage': '99%',
        // Tests delete their random indices by pattern.
        'action.destructive_requires_name': false,
      };
      await writeFile(
        resolve(home, 'config', 'elasticsearch.yml'),
        `${Object.entries(yml)
          .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
          .join('\n')}\n`,
      );
      // ES writes its keystore and temp files next to its config: the account needs the tree.
      chownTree(home, runAs);
      await prepareEsSecurity(cfg, home, esEnv(), runAs);
      chownTree(dataDir, runAs);
      chownTree(logDir, runAs);
    },
    startSpec() {
      return {
        command: resolve(home, 'bin', 'elasticsearch'),
        args: [],
        cwd: home,
        env: { ...esEnv(), ES_JAVA_OPTS: `-Xms${cfg.heap.es} -Xmx${cfg.heap.es}` },
        logFile: p.log('elasticsearch'),
        pidFile: p.pid('elasticsearch'),
        match: home,
        runAs,
      };
    },
    async probe() {
      const url = `${esUrl(cfg)}/_cluster/health?timeout=2s`;
      const h = JSON.parse(
        cfg.security ? await esRequest(cfg, 'GET', url, undefined, 'admin', 3000) : await httpGet(url),
      ) as { status: string };
      if (h.status !== 'green' && h.status !== 'yellow') throw new Error(`cluster health ${h.status}`);
      return `cluster ${h.status}`;
    },
    afterHealthy: () => provisionEs(cfg),
  };
}
