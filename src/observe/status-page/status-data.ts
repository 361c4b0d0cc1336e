import type { Client } from '@elastic/elasticsearch';
import type { Pool } from 'pg';
import { HCMC_ZONES } from '../../generator/zones.js';
import type { PipelineSnapshot } from '../pipeline-snapshot.js';

/** Headline KPIs on the status page (trailing 60 minutes from mart.latest_metric_snapshot, dimension all). */
export const STATUS_KPIS = [
  'bookings_requested',
  'bookings_completed',
  'bookings_cancelled',
  'gmv',
  'match_rate',
  'cancellation_rate',
  'avg_time_to_accept_s',
] as const;
/** Minutes of per-minute history behind each sparkline. */
export const SPARK_MINUTES = 30;

export interface StatusData {
  at: string;
  kpis: { metric: string; value: number | null; spark: (number | null)[] }[];
  drivers: { online: number; busy: number; available: number };
  pipeline: PipelineSnapshot | null;
  zones: { id: number; code: string; minLat: number; maxLat: number; minLon: number; maxLon: number }[];
  /** Latest driver positions (driver_locations) and pickups of the bookings requested in the last 30 minutes (mart). */
  positions: { lat: number; lon: number; status: string }[];
  pickups: { lat: number; lon: number }[];
}

/** What /status.json serves: one read of the mart, one of the driver index, the newest pipeline snapshot. */
export class StatusSource {
  constructor(
    private readonly pool: Pool,
    private readonly es: Client,
    private readonly indexPrefix: string,
    private readonly latestSnapshot: () => PipelineSnapshot | undefined,
  ) {}

  async read(): Promise<StatusData> {
    const [latest, spark, gauges, pickups, positions] = await Promise.all([
      this.pool.query<{ metric_name: string; metric_value: string | null }>(
        `SELECT metric_name, metric_value::text FROM mart.latest_metric_snapshot
         WHERE dimension = 'all' AND metric_name = ANY($1)`,
        [STATUS_KPIS],
      ),
      this.pool.query<{ metric_name: string; i: number; metric_value: string | null }>(
        `SELECT f.metric_name, ((extract(epoch FROM f.bucket_start - w.start) / 60))::int AS i, f.metric_value::text
         FROM mart.fact_metric_bucket f,
              (SELECT date_trunc('minute', now()) - make_interval(mins => $2 - 1) AS start) w
         WHERE f.bucket_granularity = 'MINUTE' AND f.dimension = 'all' AND f.metric_name = ANY($1)
           AND f.bucket_start >= w.start`,
        [STATUS_KPIS, SPARK_MINUTES],
      ),
      this.pool.query<{ metric_name: string; metric_value: string | null }>(
        `SELECT metric_name, metric_value::text FROM mart.metric_gauge
         WHERE dimension = 'all' AND metric_name IN ('drivers_online', 'drivers_busy', 'drivers_available')`,
      ),
      this.pool.query<{ lat: number; lon: number }>(
        `SELECT pickup_lat AS lat, pickup_lon AS lon FROM mart.fact_booking
         WHERE booking_present AND requested_at >= now() - interval '30 minutes' AND pickup_lat IS NOT NULL
         ORDER BY requested_at DESC LIMIT 2000`,
      ),
      this.es
        .search<{ location?: { lat: number; lon: number }; status?: string }>({
          index: `${this.indexPrefix}driver_locations`,
          size: 5000,
          _source: ['location', 'status'],
          query: {
            bool: {
              filter: [{ exists: { field: 'location' } }],
              must_not: [{ term: { status: 'offline' } }],
            },
          },
        })
        .then((r) => r.hits.hits.map((h) => h._source!))
        .catch(() => []), // no index yet: no positions, the rest of the page still answers
    ]);
    const num = (v: string | null | undefined) => (v === null || v === undefined ? null : Number(v));
    const value = new Map(latest.rows.map((r) => [r.metric_name, num(r.metric_value)]));
    const gauge = new Map(gauges.rows.map((r) => [r.metric_name, num(r.metric_value) ?? 0]));
    return {
      at: new Date().toISOString(),
      kpis: STATUS_KPIS.map((metric) => {
        const line: (number | null)[] = new Array(SPARK_MINUTES).fill(null);
        for (const r of spark.rows)
          if (r.metric_name === metric && r.i >= 0 && r.i < SPARK_MINUTES) line[r.i] = num(r.metric_value);
        return { metric, value: value.get(metric) ?? null, spark: line };
      }),
      drivers: {
        online: gauge.get('drivers_online') ?? 0,
        busy: gauge.get('drivers_busy') ?? 0,
        available: gauge.get('drivers_available') ?? 0,
      },
      pipeline: this.latestSnapshot() ?? null,
      zones: HCMC_ZONES.map((z) => ({
        id: z.id,
        code: z.code,
        minLat: z.minLat,
        maxLat: z.maxLat,
        minLon: z.minLon,
        maxLon: z.maxLon,
      })),
      positions: positions
        .filter((p) => p.location)
        .map((p) => ({ lat: p.location!.lat, lon: p.location!.lon, status: p.status ?? 'unknown' })),
      pickups: pickups.rows.map((r) => ({ lat: Number(r.lat), lon: Number(r.lon) })),
    };
  }
}
