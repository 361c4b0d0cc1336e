import type { Client } from '@elastic/elasticsearch';
import type pg from 'pg';
import { mirrorDoc, mirrorDocId, type KpiMirrorDoc } from '../../../src/sink/elasticsearch/kpi-mirror-doc.js';
import { KPI_MIRROR_INDEX } from '../../../src/sink/elasticsearch/kpi-mirror.js';

/**
 * Differences between the KPI mirror in Elasticsearch and the mart: every fact_metric_bucket and
 * metric_gauge row must have exactly its document (same values), and no document may be left
 * without a row. Returns '<id>: <what differs>' strings (empty = equal).
 */
export async function diffKpiMirror(
  reporting: pg.Client,
  es: Client,
  prefix: string,
): Promise<{ diffs: string[]; rows: number }> {
  const rows = await reporting.query<{
    granularity: 'MINUTE' | 'HOUR' | 'CURRENT';
    bucket_start: string | null;
    metric: string;
    dimension: string;
    numerator: string;
    denominator: string;
    value: string | null;
  }>(`SELECT bucket_granularity AS granularity,
            to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS bucket_start,
            metric_name AS metric, dimension, numerator::text, denominator::text, metric_value::text AS value
     FROM mart.fact_metric_bucket
     UNION ALL
     SELECT 'CURRENT', NULL, metric_name, dimension, numerator::text, denominator::text, metric_value::text
     FROM mart.metric_gauge`);
  const want = new Map<string, KpiMirrorDoc>();
  for (const r of rows.rows) {
    const doc = mirrorDoc({
      granularity: r.granularity,
      bucketStart: r.bucket_start,
      metric: r.metric,
      dimension: r.dimension,
      numerator: r.numerator,
      denominator: r.denominator,
      value: r.value,
      updatedAt: '',
    });
    want.set(
      mirrorDocId({
        granularity: r.granularity,
        bucketStart: r.bucket_start,
        metric: r.metric,
        dimension: r.dimension,
      }),
      doc,
    );
  }
  const index = `${prefix}${KPI_MIRROR_INDEX}`;
  await es.indices.refresh({ index });
  const have = new Map<string, KpiMirrorDoc>();
  for await (const hit of es.helpers.scrollSearch<KpiMirrorDoc>({
    index,
    size: 5000,
    query: { match_all: {} },
  }))
    for (const h of hit.body.hits.hits) have.set(h._id!, h._source!);
  const diffs: string[] = [];
  const fields = [
    'metric',
    'granularity',
    'bucket_start',
    'dimension',
    'value',
    'numerator',
    'denominator',
  ] as const;
  for (const [id, w] of want) {
    const h = have.get(id);
    if (!h) {
      diffs.push(`${id}: missing in Elasticsearch`);
      continue;
    }
    for (const f of fields) if (w[f] !== h[f]) diffs.push(`${id}: ${f} mart=${w[f]} es=${h[f]}`);
  }
  for (const id of have.keys()) if (!want.has(id)) diffs.push(`${id}: in Elasticsearch, not in the mart`);
  return { diffs, rows: want.size };
}
