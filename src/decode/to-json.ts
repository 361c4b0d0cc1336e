import { UNCHANGED } from './change-event.js';

/** JSON for humans and logs: the UNCHANGED marker is printed explicitly instead of vanishing. */
export function eventToJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v === UNCHANGED ? { $unchanged: true } : typeof v === 'bigint' ? v.toString() : v,
  );
}
