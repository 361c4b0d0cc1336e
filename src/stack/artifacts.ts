import type { StackConfig } from './config.js';
import { type Bundle, ensureBundle } from './maven.js';
import {
  apicurioApp,
  apicurioConverterDeps,
  apicurioConverterJar,
  connectBasicAuthExtension,
  debeziumArtifacts,
  debeziumJdbcSinkArtifacts,
  elasticsearchZip,
  kafkaArtifacts,
} from './versions.js';

/**
 * The Maven bundles, each unpacked under <stack>/dist/<name>:
 *   kafka/libs                         broker + Connect runtime classpath
 *   connect-plugins/<plugin>/          Connect plugin.path: one isolated dir per plugin
 *   apicurio/                          Quarkus runner jar + lib/
 *   elasticsearch/elasticsearch-<v>/   the unpacked distribution
 *   connect-rest-auth/libs             Connect's basic-auth REST extension (secured stack)
 */
export const bundles: Record<
  'kafka' | 'connectPlugins' | 'apicurio' | 'elasticsearch' | 'connectRestAuth',
  Bundle
> = {
  kafka: { name: 'kafka', steps: [{ kind: 'tree', artifacts: kafkaArtifacts, into: 'libs' }] },
  connectRestAuth: {
    name: 'connect-rest-auth',
    steps: [{ kind: 'copy', artifact: connectBasicAuthExtension, into: 'libs' }],
  },
  connectPlugins: {
    name: 'connect-plugins',
    steps: [
      { kind: 'tree', artifacts: debeziumArtifacts, into: 'debezium-connector-postgres' },
      { kind: 'copy', artifact: apicurioConverterJar, into: 'apicurio-converter' },
      { kind: 'tree', artifacts: apicurioConverterDeps, into: 'apicurio-converter' },
    ],
  },
  apicurio: { name: 'apicurio', steps: [{ kind: 'unpack', artifact: apicurioApp, into: '.' }] },
  elasticsearch: {
    name: 'elasticsearch',
    steps: [{ kind: 'unpack', artifact: elasticsearchZip, into: '.' }],
  },
};

/**
 * Connect plugins only the compare bench loads (Debezium's JDBC sink), in their own plugin dir
 * <stack>/dist/bench-connect-plugins/: not in `bundles`, so the running stack's Connect never
 * resolves or loads them and its plugin bundle (and its resolved marker) stays as it is.
 */
export const benchConnectPlugins: Bundle = {
  name: 'bench-connect-plugins',
  steps: [{ kind: 'tree', artifacts: debeziumJdbcSinkArtifacts, into: 'debezium-connector-jdbc' }],
};

/**
 * Resolves every bundle, one after another: concurrent Maven runs racing on the same ~/.m2 files
 * are not worth the few seconds they would save, and warm runs skip Maven altogether.
 */
let inflight: Promise<void> | undefined;
export function ensureArtifacts(cfg: StackConfig): Promise<void> {
  inflight ??= (async () => {
    for (const b of Object.values(bundles)) await ensureBundle(b, cfg.dir);
  })();
  return inflight;
}
