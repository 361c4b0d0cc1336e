import type { ChangeEvent } from '../decode/change-event.js';
import type { EsIntent } from './intents.js';
import { projectDriver, projectDriverLocation } from './drivers/project-drivers.js';
import { projectBookingEvents } from './bookings/project-booking-events.js';

/** Which projection sees which table's events; tables not listed feed only the mart. */
const BY_TABLE: Record<string, (e: ChangeEvent) => EsIntent[]> = {
  driver_locations: projectDriverLocation,
  drivers: projectDriver,
  bookings: projectBookingEvents,
};

export function projectToElasticsearch(events: readonly ChangeEvent[]): EsIntent[] {
  const out: EsIntent[] = [];
  for (const e of events) {
    const f = BY_TABLE[e.table];
    if (f) out.push(...f(e));
  }
  return out;
}
