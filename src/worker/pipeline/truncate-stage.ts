import type { ChangeEvent } from '../../decode/change-event.js';
import type { Logger } from '../../observe/logger.js';
import { SystemicError } from '../../shared/errors.js';
import type { WriteContext } from '../../sink/sink.js';
import { retryStage, type RetryPolicy } from '../../sink/with-retry.js';

/** The command that rebuilds a truncated table's views (src/cli/commands/mart.ts). */
export const rebuildCommand = (table: string): string => `ride-cdc mart rebuild --table ${table}`;

export const SOURCE_TRUNCATE = 'source-truncate';

/** The error a truncate raises: names the table, where it sits in the log and the command that repairs it. */
export function truncateError(e: ChangeEvent, groupId: string): SystemicError {
  return new SystemicError(
    SOURCE_TRUNCATE,
    `table ${e.table} was truncated in the source (${e.topic}/${e.partition} offset ${e.offset}, lsn ${e.lsn}): ` +
      `its views cannot be repaired event by event, so this partition stays paused. ` +
      `Stop every worker of group ${groupId}, run \`${rebuildCommand(e.table)}\`, then start the workers`,
  );
}

/**
 * A truncate is not a row change: no event says which rows went, so applying the batch around it
 * would leave every view silently different from the source, and dead-lettering it would lose it.
 * It is a systemic failure of the project stage instead: nothing of the batch is written, the
 * partition pauses, /readyz fails with the message, ride_cdc_systemic_failures{stage="project",
 * reason="source-truncate"} rises (alert RideCdcSystemicFailure). It does not heal by itself: the
 * stage keeps failing until the worker is stopped for `ride-cdc mart rebuild --table T`, which
 * moves the stored positions past the truncate (src/batch/rebuild/).
 */
export async function truncateStage(
  events: readonly ChangeEvent[],
  groupId: string,
  ctx: WriteContext,
  policy: RetryPolicy,
  log: Logger,
): Promise<void> {
  const t = events.find((e) => e.op === 't');
  if (!t) return;
  const err = truncateError(t, groupId);
  log.error(
    { table: t.table, offset: t.offset, lsn: t.lsn, command: rebuildCommand(t.table) },
    `source table truncated; partition paused until: ${rebuildCommand(t.table)}`,
  );
  await retryStage(
    'project',
    async () => {
      throw err;
    },
    ctx,
    policy,
  );
}
