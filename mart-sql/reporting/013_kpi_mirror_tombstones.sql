-- KPI rows the mart deleted (emptied: no source row contributes any more) whose deletion the KPI
-- mirror in Elasticsearch (kpi_buckets) may not have seen yet. The batch transaction that deletes a
-- row writes its key here; the mirror removes the key once its document is gone. A worker killed
-- between the commit and its mirror write leaves the key, and the next start-up resync deletes
-- the document: reading fact_metric_bucket / metric_gauge alone cannot show a row that is gone.
-- Gauges (granularity CURRENT) have no bucket: bucket_start is '-infinity' for them.
CREATE TABLE IF NOT EXISTS mart.kpi_mirror_tombstone (
  bucket_granularity text NOT NULL CHECK (bucket_granularity IN ('MINUTE', 'HOUR', 'CURRENT')),
  bucket_start       timestamptz NOT NULL,
  metric_name        text NOT NULL,
  dimension          text NOT NULL,
  deleted_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bucket_granularity, bucket_start, metric_name, dimension)
);
COMMENT ON TABLE mart.kpi_mirror_tombstone IS 'Keys of KPI rows deleted from fact_metric_bucket / metric_gauge whose Elasticsearch mirror document may still exist; written in the deleting transaction, removed by the KPI mirror once the document is deleted.';
