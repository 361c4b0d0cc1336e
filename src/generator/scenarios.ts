/**
 * Generator scenarios: named conditions of the city that change what the stream simulation writes,
 * so the KPIs downstream move the way they would in the real city. Each scenario is a pure set of
 * effects (below); stream.ts, requests.ts, fleet.ts and the clock apply them. Scenarios combine
 * (`--scenario surge,rain`): demand factors multiply, the harshest driver/speed/cancel effects win.
 *
 *   rush-hour        demand follows the local time-of-day curve of the city clock (HOURLY_DEMAND)
 *   surge            demand × surgeFactor for pickups in the chosen zones → surge multipliers rise
 *   rain             a share of drivers goes offline, speeds drop, cancellations rise
 *   network-latency  location reports and app events reach the database late and out of order
 */
import type { FateWeights } from './lifecycle.js';

export const SCENARIOS = ['rush-hour', 'surge', 'rain', 'network-latency'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Relative request volume by local hour: morning and evening peaks, quiet nights (mean ≈ 0.94). */
export const HOURLY_DEMAND: readonly number[] = [
  0.2, 0.1, 0.08, 0.06, 0.1, 0.3, 0.7, 1.6, 1.8, 1.2, 0.9, 1.0, 1.1, 0.9, 0.8, 0.9, 1.2, 1.8, 2.0, 1.6, 1.2,
  1.0, 0.7, 0.4,
];
const MEAN_HOURLY_DEMAND = HOURLY_DEMAND.reduce((a, b) => a + b, 0) / HOURLY_DEMAND.length;

/** Ho Chi Minh City is UTC+7 all year (no daylight saving). */
export const CITY_UTC_OFFSET_MS = 7 * 3_600_000;

/** Local hour (0..23) of the city at a UTC instant. */
export function cityHour(utcMs: number): number {
  return new Date(utcMs + CITY_UTC_OFFSET_MS).getUTCHours();
}

export interface ScenarioSettings {
  /** Zones whose pickups get surge demand (default: District 1 and District 3, ids 1 and 2). */
  surgeZones: readonly number[];
  /** Demand multiplier in the surge zones. */
  surgeFactor: number;
}

export const DEFAULT_SCENARIO_SETTINGS: ScenarioSettings = { surgeZones: [1, 2], surgeFactor: 4 };

/** Late writes: a share of writes carries a business time this much older than the write. */
export interface Latency {
  /** Share of location reports and booking steps that arrive late. */
  share: number;
  minMs: number;
  maxMs: number;
}

export interface ScenarioEffects {
  readonly names: readonly ScenarioName[];
  /** Request-rate multiplier at a local hour of the city. */
  demandAt(localHour: number): number;
  /** Pickup-demand multiplier per zone id (absent = 1). */
  readonly zoneDemand: ReadonlyMap<number, number>;
  /** Multiplier of the equilibrium online share of drivers. */
  readonly onlineShareFactor: number;
  /** Share of online, idle drivers that log off at once when the run starts. */
  readonly initialLogoffShare: number;
  /** Multiplier of every driving speed (trips and roaming). */
  readonly speedFactor: number;
  /** Multiplier of the passenger and driver cancellation weights. */
  readonly cancelFactor: number;
  readonly latency: Latency | null;
}

export const NO_SCENARIO: ScenarioEffects = effectsOf([]);

/** Parses `rush-hour,surge` (CLI) or a list (API); unknown names are a ConfigError upstream. */
export function parseScenarios(v: unknown): ScenarioName[] | string {
  if (v === undefined || v === null || v === '') return [];
  const parts = (Array.isArray(v) ? v.map(String) : String(v).split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = parts.filter((p) => !(SCENARIOS as readonly string[]).includes(p));
  if (bad.length > 0) return `unknown scenario ${bad.join(', ')} (expected ${SCENARIOS.join(', ')})`;
  return [...new Set(parts)] as ScenarioName[];
}

export function effectsOf(
  names: readonly ScenarioName[],
  settings: ScenarioSettings = DEFAULT_SCENARIO_SETTINGS,
): ScenarioEffects {
  const has = (n: ScenarioName) => names.includes(n);
  const rain = has('rain');
  const zoneDemand = new Map<number, number>();
  if (has('surge')) for (const z of settings.surgeZones) zoneDemand.set(z, settings.surgeFactor);
  return {
    names,
    // Rain: people who would walk or ride their own bike book instead.
    demandAt: (h) =>
      (has('rush-hour') ? HOURLY_DEMAND[((h % 24) + 24) % 24]! / MEAN_HOURLY_DEMAND : 1) * (rain ? 1.3 : 1),
    zoneDemand,
    onlineShareFactor: rain ? 0.5 : 1,
    initialLogoffShare: rain ? 0.5 : 0,
    speedFactor: rain ? 0.55 : 1,
    cancelFactor: rain ? 2.5 : 1,
    latency: has('network-latency') ? { share: 0.4, minMs: 2_000, maxMs: 90_000 } : null,
  };
}

/** Fate weights under the scenario: passenger and driver cancellations scaled. */
export function scenarioFateWeights(w: FateWeights, e: ScenarioEffects): FateWeights {
  const f = e.cancelFactor;
  return {
    ...w,
    passengerBeforeAccept: w.passengerBeforeAccept * f,
    passengerAfterAccept: w.passengerAfterAccept * f,
    driverAfterAccept: w.driverAfterAccept * f,
    driverNoShow: w.driverNoShow * f,
  };
}
