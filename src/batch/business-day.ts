/**
 * The business day: the calendar day of the city (default Asia/Ho_Chi_Minh) that the daily batch
 * views (cohorts, retention, churn, productivity) are keyed by. The minute and hour KPI buckets
 * stay UTC. This is the one reader of the setting; the worker and `ride-cdc cohorts` both use it.
 */
import { EnvReader } from '../config/env.js';
import { ConfigError } from '../shared/errors.js';

export const DEFAULT_BUSINESS_TIMEZONE = 'Asia/Ho_Chi_Minh';

export interface BatchConfig {
  /** IANA zone the business day is taken in (BUSINESS_TIMEZONE). */
  timezone: string;
  /** A member with no completed trip for this many business days has churned (CHURN_DAYS). */
  churnDays: number;
  /** How often the worker checks for a closed day or touched days (COHORTS_INTERVAL_MS); 0 = never. */
  intervalMs: number;
}

export function isTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function loadBatchConfig(env: NodeJS.ProcessEnv = process.env): BatchConfig {
  const r = new EnvReader(env);
  const timezone = r.str('BUSINESS_TIMEZONE', DEFAULT_BUSINESS_TIMEZONE);
  if (!isTimezone(timezone))
    r.fail(
      `BUSINESS_TIMEZONE=${JSON.stringify(timezone)}: expected an IANA time zone such as Asia/Ho_Chi_Minh`,
    );
  const cfg = {
    timezone,
    churnDays: r.int('CHURN_DAYS', 7, 1, 365),
    intervalMs: r.int('COHORTS_INTERVAL_MS', 60_000, 0, 86_400_000),
  };
  r.done();
  return cfg;
}

/** A business day as 'YYYY-MM-DD' at an instant, in the zone. */
export function businessDayOf(at: Date, timezone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** 'YYYY-MM-DD' ± n days (calendar arithmetic, no zone involved). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function parseDay(name: string, v: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)))
    throw new ConfigError(`${name} ${JSON.stringify(v)}: expected a business day YYYY-MM-DD`);
  return v;
}
