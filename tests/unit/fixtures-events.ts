import type { ChangeEvent, Op, Row } from '../../src/decode/change-event.js';

/** Builds a ChangeEvent the way the decoder emits one (test helper, pure data). */
export function changeEvent(
  table: string,
  op: Op,
  after: Row | null,
  opts: Partial<ChangeEvent> = {},
): ChangeEvent {
  return {
    table,
    op,
    key: opts.key ?? null,
    before: opts.before ?? null,
    after,
    sourceTsMs: opts.sourceTsMs ?? 1_763_699_530_000,
    lsn: opts.lsn ?? 1000,
    txId: opts.txId ?? 1,
    snapshot: opts.snapshot ?? op === 'r',
    topic: opts.topic ?? `ride.public.${table}`,
    partition: opts.partition ?? 0,
    offset: opts.offset ?? '0',
  };
}
