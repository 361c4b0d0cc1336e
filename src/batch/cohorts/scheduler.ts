/**
 * The worker's daily cohort batch: every COHORTS_INTERVAL_MS it checks reporting_db and runs
 * `cohorts run --since D` when
 *   - a business day has closed since the last run (D = the first day not yet computed; the first
 *     run ever computes the whole history), or
 *   - mart.fact_booking rows were written since the last check whose booking was requested on a
 *     closed day (late or corrected events: D = the earliest such requested day; requested_at ≤
 *     completed_at, so it also covers a completed_at that a correction moved).
 * The state lives in mart.batch_run, so a restarted or second worker carries on where it was; runs
 * are idempotent, so two workers checking at once only cost time.
 */
import type pg from 'pg';
import type { Logger } from '../../observe/logger.js';
import type { Metrics } from '../../observe/metrics.js';
import { errorMessage } from '../../shared/errors.js';
import { addDays, type BatchConfig } from '../business-day.js';
import { businessToday, runCohorts } from './run.js';

const JOB = 'cohorts';
/** Transactions stamp updated_at at their start: look back this far so a long one is not missed. */
const COMMIT_SLACK = "interval '5 minutes'";

export class CohortScheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  constructor(
    private readonly pool: pg.Pool,
    private readonly cfg: BatchConfig,
    private readonly logger: Logger,
    private readonly metrics: Pick<Metrics, 'batchRuns' | 'batchLastSuccess'>,
  ) {}

  start(): void {
    if (this.timer || this.cfg.intervalMs <= 0) return;
    const tick = () => {
      if (this.running) return;
      this.running = this.check()
        .then(() => undefined)
        .catch((err: unknown) => {
          this.metrics.batchRuns.inc({ job: JOB, result: 'failure' });
          this.logger.warn({ err: errorMessage(err) }, 'cohort batch failed; retrying at the next check');
        })
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.cfg.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One check; returns the day a run started from, or null when nothing was due. */
  async check(): Promise<string | null> {
    const tz = this.cfg.timezone;
    const { rows } = await this.pool.query<{
      now: Date;
      last_closed_day: string | null;
      watermark: Date | null;
    }>(
      `SELECT now() AS now, r.last_closed_day::text, r.watermark
         FROM (SELECT 1) AS one LEFT JOIN mart.batch_run r ON r.job = $1`,
      [JOB],
    );
    const state = rows[0]!;
    const today = await businessToday(this.pool, tz);
    const yesterday = addDays(today, -1);
    let since: string | null = null;
    if (state.last_closed_day === null) {
      const first = await this.pool.query<{ d: string | null }>(
        `SELECT (min(completed_at) AT TIME ZONE $1::text)::date::text AS d FROM mart.fact_booking WHERE booking_present`,
        [tz],
      );
      since = first.rows[0]!.d ?? yesterday;
    } else if (state.last_closed_day < yesterday) {
      since = addDays(state.last_closed_day, 1);
    }
    if (state.watermark !== null) {
      const touched = await this.pool.query<{ d: string | null }>(
        `SELECT (min(requested_at) AT TIME ZONE $1::text)::date::text AS d FROM mart.fact_booking
          WHERE updated_at > $2::timestamptz - ${COMMIT_SLACK} AND requested_at IS NOT NULL`,
        [tz, state.watermark],
      );
      const d = touched.rows[0]!.d;
      if (d !== null && d < today && (since === null || d < since)) since = d;
    }
    if (since !== null && since >= today) since = null;
    let rowsWritten: number | null = null;
    if (since !== null) {
      const r = await runCohorts(this.pool, this.cfg, { since });
      rowsWritten = Object.values(r.rows).reduce((a, b) => a + b, 0);
      this.metrics.batchRuns.inc({ job: JOB, result: 'success' });
      this.metrics.batchLastSuccess.set({ job: JOB }, Date.now() / 1000);
      this.logger.info({ since, until: r.dayUntil, rows: r.rows, ms: Math.round(r.ms) }, 'cohort batch ran');
    }
    await this.pool.query(
      `INSERT INTO mart.batch_run (job, last_closed_day, watermark, last_since, last_run_at, last_rows)
       VALUES ($1, $2, $3, $4, CASE WHEN $4::date IS NULL THEN NULL ELSE now() END, $5)
       ON CONFLICT (job) DO UPDATE SET last_closed_day = GREATEST(mart.batch_run.last_closed_day, EXCLUDED.last_closed_day),
         watermark = EXCLUDED.watermark,
         last_since = COALESCE(EXCLUDED.last_since, mart.batch_run.last_since),
         last_run_at = COALESCE(EXCLUDED.last_run_at, mart.batch_run.last_run_at),
         last_rows = COALESCE(EXCLUDED.last_rows, mart.batch_run.last_rows)`,
      [
        JOB,
        since !== null || state.last_closed_day !== null ? yesterday : null,
        state.now,
        since,
        rowsWritten,
      ],
    );
    return since;
  }
}
