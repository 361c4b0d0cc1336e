import type { Client } from '@elastic/elasticsearch';
import type { Row } from '../../decode/change-event.js';
import { FAMILY, type EsIntent, type Rejection } from '../../project/intents.js';
import { projectToElasticsearch } from '../../project/project-es.js';
import type { ElasticsearchSink } from '../../sink/elasticsearch/es-sink.js';
import { classifyEsError } from '../../sink/elasticsearch/es-errors.js';
import { rebuildEvents } from './rebuild-events.js';
import { KEY_COLUMN, type SourceSnapshot } from './snapshot.js';

/**
 * The Elasticsearch side of a rebuild: the documents a table feeds are deleted and written again
 * from the current source rows through the worker's own projections (what es-truth.ts compares):
 * bookings → booking_events-* (one document per booking and lifecycle step), drivers and
 * driver_locations → the latest driver document. The position time series is history (one
 * document per position the source accepted, which a truncate does not undo) and is kept.
 */
export interface EsRebuildResult {
  view: string;
  deleted: number;
  written: number;
  rejected: Rejection[];
}

export function viewsFedBy(table: string): string[] {
  if (table === 'bookings') return [FAMILY.bookingEvents];
  if (table === 'drivers' || table === 'driver_locations') return [FAMILY.driverLatest];
  return [];
}

function rowsOf(snapshot: SourceSnapshot, table: string): Row[] {
  const rows = snapshot.rows.get(table) ?? snapshot.extra.get(table);
  if (!rows) throw new Error(`bug: the snapshot did not read ${table}`);
  return rows;
}

/** The intents that rebuild `view` from the snapshot (pure). */
export function rebuildIntents(view: string, snapshot: SourceSnapshot): EsIntent[] {
  const events =
    view === FAMILY.bookingEvents
      ? rebuildEvents('bookings', KEY_COLUMN.bookings!, rowsOf(snapshot, 'bookings'))
      : [
          ...rebuildEvents('drivers', KEY_COLUMN.drivers!, rowsOf(snapshot, 'drivers')),
          ...rebuildEvents(
            'driver_locations',
            KEY_COLUMN.driver_locations!,
            rowsOf(snapshot, 'driver_locations'),
          ),
        ];
  // Only the view being rebuilt (a location row also yields a time-series document: history, kept).
  return projectToElasticsearch(events).filter((i) =>
    i.kind === 'timeseries-doc'
      ? i.family === view
      : view === FAMILY.driverLatest && i.kind !== 'delete-by-field',
  );
}

export async function rebuildEsView(
  es: Client,
  sink: ElasticsearchSink,
  prefix: string,
  view: string,
  snapshot: SourceSnapshot,
): Promise<EsRebuildResult> {
  const index = view === FAMILY.driverLatest ? `${prefix}${view}` : `${prefix}${view}-*`;
  let deleted = 0;
  try {
    // The view's indices go whole (the native Elasticsearch has no delete-by-query module), by
    // name (destructive wildcards are refused), and come back from mappings/ (setup is idempotent).
    const scope = { index, allow_no_indices: true, ignore_unavailable: true };
    await es.indices.refresh(scope);
    deleted = (await es.count(scope)).count;
    const names = Object.keys(await es.indices.get(scope));
    if (names.length > 0) await es.indices.delete({ index: names });
    await sink.start();
  } catch (err) {
    throw classifyEsError(err, `delete ${index}`);
  }
  const intents = rebuildIntents(view, snapshot);
  const { rejected } = await sink.write(intents);
  await es.indices.refresh({ index, allow_no_indices: true, ignore_unavailable: true });
  return { view, deleted, written: intents.length - rejected.length, rejected };
}
