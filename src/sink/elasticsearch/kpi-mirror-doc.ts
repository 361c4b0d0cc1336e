import type { Delta } from '../../project/metrics/delta.js';
import type { BucketGranularity } from '../../project/metrics/contributions.js';
import { METRICS } from '../../project/metrics/catalog.js';

/**
 * Pure side of the KPI mirror (kpi-mirror.ts): which mart rows a batch touched, the deterministic
 * document id of each, and the document built from a committed mart row.
 */

/** One mart KPI row: a fact_metric_bucket row, or (granularity CURRENT) a metric_gauge row. */
export interface MetricKey {
  readonly granularity: BucketGranularity;
  /** UTC bucket start as ISO string; null for gauges. */
  readonly bucketStart: string | null;
  readonly metric: string;
  readonly dimension: string;
}

/** A committed mart row as read back (exact decimals as text). */
export interface MartMetricRow extends MetricKey {
  readonly numerator: string;
  readonly denominator: string;
  /** metric_value: null when a ratio's denominator is 0. */
  readonly value: string | null;
  readonly updatedAt: string;
}

/** The same id for the same mart row on every worker and every replay: (metric, granularity, bucket, dimension). */
export function mirrorDocId(k: MetricKey): string {
  return `${k.metric}|${k.granularity}|${k.bucketStart ?? 'current'}|${k.dimension}`;
}

/** Distinct mart rows touched by a batch's deltas (member deltas change their bucket's distinct count). */
export function touchedKeys(deltas: readonly Delta[]): MetricKey[] {
  const out = new Map<string, MetricKey>();
  for (const d of deltas) {
    const k: MetricKey = {
      granularity: d.granularity,
      bucketStart: d.bucketStart,
      metric: d.metric,
      dimension: d.dimension,
    };
    out.set(mirrorDocId(k), k);
  }
  return [...out.values()];
}

/** Fingerprint of what a row holds (or 'absent'), to see whether a re-read changed. */
export function rowFingerprint(row: MartMetricRow | undefined): string {
  return row ? `${row.numerator}|${row.denominator}` : 'absent';
}

export interface KpiMirrorDoc {
  metric: string;
  metric_group: string | null;
  unit: string | null;
  granularity: string;
  bucket_start: string | null;
  dimension: string;
  dimension_family: string;
  dimension_value: string | null;
  zone_id: number | null;
  value: number | null;
  numerator: number;
  denominator: number;
  mart_updated_at: string;
}

/** The Elasticsearch document of a committed row: absolute values, so writing it twice is harmless. */
export function mirrorDoc(row: MartMetricRow): KpiMirrorDoc {
  const def = METRICS.get(row.metric);
  const sep = row.dimension.indexOf(':');
  const family = sep < 0 ? row.dimension : row.dimension.slice(0, sep);
  const value = sep < 0 ? null : row.dimension.slice(sep + 1);
  const zone = family === 'zone' && value !== null && /^\d+$/.test(value) ? Number(value) : null;
  return {
    metric: row.metric,
    metric_group: def?.group ?? null,
    unit: def?.unit ?? null,
    granularity: row.granularity,
    bucket_start: row.bucketStart,
    dimension: row.dimension,
    dimension_family: family,
    dimension_value: value,
    zone_id: zone,
    value: row.value === null ? null : Number(row.value),
    numerator: Number(row.numerator),
    denominator: Number(row.denominator),
    mart_updated_at: row.updatedAt,
  };
}
