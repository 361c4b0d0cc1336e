import type { Pool } from 'pg';
import { latestKpisSql } from '../sink/mart/sql/metric-sql.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** The KPIs on-call alerts watch (compose/prometheus/alerts.yml), read from the mart's snapshot view. */
export const HEADLINE_KPIS = [
  'match_rate',
  'cancellation_rate',
  'bookings_requested',
  'bookings_completed',
  'gmv',
  'avg_time_to_accept_s',
  'drivers_online',
  'drivers_busy',
  'driver_utilization',
  'active_drivers',
  'active_passengers',
] as const;

/**
 * Mirrors headline KPIs (dimension 'all') from mart.latest_metric_snapshot into the ride_cdc_kpi
 * gauge every `intervalMs`. Read-only and best effort: a failed read leaves the last values and is
 * logged; it never blocks the data path.
 */
export class KpiExporter {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly pool: Pool,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly intervalMs = 15_000,
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.running = this.refresh().catch((err: Error) =>
        this.logger.warn({ err: err.message }, 'KPI refresh failed'),
      );
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    const q = latestKpisSql(HEADLINE_KPIS);
    const res = await this.pool.query<{ metric_name: string; metric_value: string | null }>(q.text, q.values);
    const seen = new Set<string>();
    for (const r of res.rows) {
      if (r.metric_value === null) continue;
      seen.add(r.metric_name);
      this.metrics.kpi.set({ metric: r.metric_name, dimension: 'all' }, Number(r.metric_value));
    }
    // A flow with no data in the trailing window is 0, not its last stale value.
    for (const m of HEADLINE_KPIS) if (!seen.has(m)) this.metrics.kpi.remove({ metric: m, dimension: 'all' });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
