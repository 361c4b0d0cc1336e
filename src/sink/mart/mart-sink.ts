import type { Pool, PoolClient } from 'pg';
import type { ChangeEvent } from '../../decode/change-event.js';
import { foldMart, rowsTouched } from '../../project/mart-fold.js';
import type { Rejection } from '../../project/intents.js';
import type { Metrics } from '../../observe/metrics.js';
import { TransientError, errorMessage } from '../../shared/errors.js';
import type { Sink } from '../sink.js';
import { classifyPgError } from './pg-errors.js';
import { readStoredStates, writeFold } from './mart-writes.js';
import { catalogSyncStatements } from './sql/metric-sql.js';
import { loadPositionsSql, setPositionSql } from './sql/offsets-sql.js';
import { touchedKeys, type MetricKey } from '../elasticsearch/kpi-mirror-doc.js';

/** One partition's batch for the mart: its events and the position move that commits with them. */
export interface MartBatch {
  topic: string;
  partition: number;
  /** Stored position the batch continues from (null: nothing stored yet). */
  expectedNext: string | null;
  /** Position after the batch. */
  next: string;
  events: readonly ChangeEvent[];
  /** Probe only: run everything, then roll back (used to find the event a statement refuses). */
  dryRun?: boolean;
}

const byPartition = (a: MartBatch, b: MartBatch) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

/**
 * committed: mart changes and position are in. fenced: another instance moved the position first;
 * nothing was written. rejected: some events cannot be projected; nothing was written — dead-letter
 * them and write the batch again without them (so no network call happens while row locks are held).
 */
export type MartOutcome =
  | { kind: 'committed'; kpiRows: number; touched: MetricKey[] }
  | { kind: 'fenced' }
  | { kind: 'rejected'; rejected: Rejection[] };

/**
 * The reporting mart as the transactional sink of a batch: one PostgreSQL transaction reads the
 * previous state of every row the batch touches (locked), folds the events onto it (pure,
 * src/project/mart-fold.ts), writes states, booking facts, status history and KPI deltas, and moves
 * the stored position — all or nothing. The mart sink owns every statement run on reporting_db.
 */
export class MartSink implements Sink<MartBatch, MartOutcome> {
  readonly stage = 'reporting_db';

  constructor(
    private readonly pool: Pool,
    private readonly groupId: string,
    private readonly metrics: Metrics,
    /**
     * Bounds on the batch transaction (so a stuck lock or statement becomes a retry, not a stall),
     * its commit mode, and the KPIs maintained (null: the whole catalog).
     */
    private readonly settings: {
      lockTimeoutMs: number;
      statementTimeoutMs: number;
      synchronousCommit: 'on' | 'off';
      kpis: readonly string[] | null;
    },
  ) {
    this.kpis = settings.kpis ? new Set(settings.kpis) : undefined;
  }

  private readonly kpis: ReadonlySet<string> | undefined;

  /** Fills mart.metric_definition from the catalog. */
  async start(): Promise<void> {
    await this.transaction(async (client) => {
      for (const s of catalogSyncStatements()) await client.query(s.text, s.values);
      return true;
    });
  }

  /** The pool belongs to the worker (the KPI exporter shares it); nothing of the sink's own to close. */
  async close(): Promise<void> {}

  /** Throws while reporting_db is unreachable or not migrated ("relation ... does not exist"). */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1 FROM mart.consumer_offsets LIMIT 1');
  }

  /** Stored next offset per partition, for partitions that have one. */
  async loadPositions(topic: string, partitions: readonly number[]): Promise<Map<number, string>> {
    const s = loadPositionsSql(this.groupId, topic, partitions);
    const res = await this.pool.query<{ partition: number; next_offset: string }>(s.text, s.values);
    return new Map(res.rows.map((r) => [r.partition, r.next_offset]));
  }

  async write(batch: MartBatch): Promise<MartOutcome> {
    return this.writeGroup([batch]);
  }

  /**
   * The batches of several partitions in one transaction (group commit, group-commit.ts): one fold
   * over all their events, then one fenced position move per partition. Fenced when any move is;
   * rejected with the events of any of them. Either way nothing of the group was written.
   */
  async writeGroup(batches: readonly MartBatch[]): Promise<MartOutcome> {
    const started = performance.now();
    let outcome: MartOutcome = { kind: 'fenced' };
    try {
      await this.transaction(async (client) => {
        const touched = rowsTouched(
          batches.length === 1 ? batches[0]!.events : batches.flatMap((b) => b.events),
        );
        const { stored, lockedBookings } = await readStoredStates(client, touched);
        const fold = foldMart(touched, stored, this.kpis);
        if (fold.rejected.length > 0) {
          outcome = { kind: 'rejected', rejected: fold.rejected };
          return false;
        }
        const kpiRows = await writeFold(client, fold, lockedBookings);
        // consumer_offsets rows last and in one order, like every other lock (mart-writes.ts).
        for (const b of [...batches].sort(byPartition)) {
          const move = setPositionSql(this.groupId, b.topic, b.partition, b.next, b.expectedNext);
          if (((await client.query(move.text, move.values)).rowCount ?? 0) !== 1) {
            outcome = { kind: 'fenced' };
            return false;
          }
        }
        if (batches.some((b) => b.dryRun)) {
          outcome = { kind: 'committed', kpiRows, touched: [] };
          return false;
        }
        this.metrics.martRowsMerged.inc({ table: 'fact_metric_bucket' }, kpiRows);
        // The KPI rows this commit changed: the KPI mirror re-reads and indexes them afterwards.
        outcome = { kind: 'committed', kpiRows, touched: touchedKeys(fold.deltas) };
        return true;
      });
      return outcome;
    } finally {
      this.metrics.sinkSeconds.observe(
        { sink: 'reporting_db', operation: 'transaction' },
        (performance.now() - started) / 1000,
      );
    }
  }

  /** BEGIN; body; COMMIT when it returns true, ROLLBACK otherwise or on error (classified). */
  private async transaction(body: (client: PoolClient) => Promise<boolean>): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new TransientError(`reporting_db unavailable: ${errorMessage(err)}`, err);
    }
    try {
      await client.query('BEGIN');
      // SET LOCAL takes no parameters; the values are validated integers and an on/off enum from
      // the configuration (synchronous_commit: see worker-config.ts, the replay makes it safe).
      await client.query(
        `SET LOCAL lock_timeout = ${Math.trunc(this.settings.lockTimeoutMs)}; SET LOCAL statement_timeout = ${Math.trunc(this.settings.statementTimeoutMs)}; SET LOCAL synchronous_commit = ${this.settings.synchronousCommit}`,
      );
      const commit = await body(client);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      client.release();
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // Passing the error makes the pool discard the connection: after a lost server it is dead.
      client.release(err as Error);
      throw classifyPgError(err);
    }
  }
}
