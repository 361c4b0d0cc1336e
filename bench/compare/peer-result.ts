/** One row of the compare table: a peer (or ceiling) that processed the whole backlog. */
export interface PeerResult {
  name: string;
  kind: 'ceiling' | 'ride-cdc' | 'flink' | 'debezium-jdbc';
  events: number;
  /** Processing span (what events/s is computed from). */
  seconds: number;
  eventsPerSecond: number;
  /** CPU seconds of the peer's own processes per million events (null: not separable). */
  cpuSecondsPerMillion: number | null;
  /** Summed peak RSS (VmHWM) of the peer's processes (null: runs inside the bench process). */
  peakRssBytes: number | null;
  /** Result compared with truth SQL over the source (null: nothing to compare, e.g. a ceiling). */
  equalToTruth: boolean | null;
  note?: string;
  extra?: Record<string, unknown>;
}

export function peerResult(
  r: Omit<PeerResult, 'eventsPerSecond' | 'cpuSecondsPerMillion'> & {
    cpuSeconds: number | null;
    /** Events processed within `seconds` when fewer than `events` (some were before the span began). */
    eventsInSpan?: number;
  },
): PeerResult {
  const { cpuSeconds, eventsInSpan, ...rest } = r;
  return {
    ...rest,
    eventsPerSecond: (eventsInSpan ?? r.events) / r.seconds,
    cpuSecondsPerMillion: cpuSeconds === null ? null : (cpuSeconds / r.events) * 1e6,
  };
}
