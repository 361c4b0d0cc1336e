import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Metrics of the worker's periodic batch jobs (daily cohorts, data-quality snapshots), registered
 * on the worker's registry. A job that keeps failing is loud: ride_cdc_batch_runs_total{result=
 * "failure"} rises and the last-success timestamp stops moving (alert RideCdcBatchStale).
 */
export function createBatchMetrics(registry: Registry) {
  const registers = [registry];
  const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined;
  return {
    runs:
      existing<Counter<'job' | 'result'>>('ride_cdc_batch_runs_total') ??
      new Counter({
        name: 'ride_cdc_batch_runs_total',
        help: 'Runs of a periodic batch job, by job and result (success, failure)',
        labelNames: ['job', 'result'],
        registers,
      }),
    lastSuccess:
      existing<Gauge<'job'>>('ride_cdc_batch_last_success_timestamp_seconds') ??
      new Gauge({
        name: 'ride_cdc_batch_last_success_timestamp_seconds',
        help: 'Unix time of the last successful run of a batch job',
        labelNames: ['job'],
        registers,
      }),
  };
}
export type BatchMetrics = ReturnType<typeof createBatchMetrics>;
