/**
 * Latency statistics for `ride-cdc sla`. Nearest-rank quantiles over the raw samples (no
 * interpolation): with 20 probes p95 is the 19th fastest, a value that was really observed.
 * A probe that never arrived counts as Infinity, so it can only make a verdict worse.
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new Error('quantile of no samples');
  if (!(q > 0 && q <= 1)) throw new Error(`quantile ${q}: expected 0 < q <= 1`);
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil(q * sorted.length) - 1] as number;
}

export interface Sla {
  p95Ms: number;
  p99Ms: number;
}

export interface SlaVerdict {
  target: string;
  n: number;
  lost: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  ok: boolean;
  /** Why it failed, empty when ok. */
  reasons: string[];
}

export function slaVerdict(target: string, samplesMs: readonly number[], sla: Sla): SlaVerdict {
  const p95 = quantile(samplesMs, 0.95);
  const p99 = quantile(samplesMs, 0.99);
  const lost = samplesMs.filter((s) => !Number.isFinite(s)).length;
  const reasons: string[] = [];
  if (lost > 0) reasons.push(`${lost} of ${samplesMs.length} probes never arrived`);
  if (p95 > sla.p95Ms) reasons.push(`p95 ${fmtMs(p95)} > SLA ${fmtMs(sla.p95Ms)}`);
  if (p99 > sla.p99Ms) reasons.push(`p99 ${fmtMs(p99)} > SLA ${fmtMs(sla.p99Ms)}`);
  return {
    target,
    n: samplesMs.length,
    lost,
    p50: quantile(samplesMs, 0.5),
    p95,
    p99,
    max: Math.max(...samplesMs),
    ok: reasons.length === 0,
    reasons,
  };
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'lost';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
