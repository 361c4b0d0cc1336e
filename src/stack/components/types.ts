import type { Probe } from '../health.js';
import type { StartSpec } from '../processes.js';

/** `kafka` is node 1; a multi-broker stack adds `kafka-2`, `kafka-3`, … (components/kafka-cluster.ts). */
export type ComponentName =
  | 'postgres-source'
  | 'postgres-reporting'
  | 'kafka'
  | `kafka-${number}`
  | 'registry'
  | 'connect'
  | 'elasticsearch'
  | 'prometheus';

/**
 * One service of the stack. `prepare` and `afterHealthy` are idempotent: `up` runs them on every
 * start (they skip work that is already done), so a half-finished previous `up` heals itself.
 */
export interface Component {
  name: ComponentName;
  port: number;
  /** Components that must be healthy before this one starts. */
  dependsOn: ComponentName[];
  /** Resolves artifacts, writes configuration, initialises data dirs. Blocking, bounded. */
  prepare(): Promise<void>;
  startSpec(): StartSpec;
  probe: Probe;
  /** PostgreSQL wants SIGINT (fast shutdown); SIGTERM would wait for every client to leave. */
  stopSignal: NodeJS.Signals;
  /** Runs once the probe passes: databases, schema. */
  afterHealthy?(): Promise<void>;
}
