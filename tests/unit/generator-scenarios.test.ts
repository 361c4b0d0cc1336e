import { describe, expect, it } from 'vitest';
import { WallClock } from '../../src/generator/clock.js';
import { DEFAULT_FATE_WEIGHTS } from '../../src/generator/lifecycle.js';
import { resolveOptions } from '../../src/generator/options.js';
import { Rng } from '../../src/generator/rng.js';
import {
  cityHour,
  effectsOf,
  HOURLY_DEMAND,
  NO_SCENARIO,
  parseScenarios,
  scenarioFateWeights,
} from '../../src/generator/scenarios.js';
import { World } from '../../src/generator/world.js';
import { HCMC_ZONES } from '../../src/generator/zones.js';
import { ConfigError } from '../../src/shared/errors.js';

describe('generator scenarios', () => {
  it('parses comma lists and rejects unknown names', () => {
    expect(parseScenarios('rush-hour, surge,surge')).toEqual(['rush-hour', 'surge']);
    expect(parseScenarios(undefined)).toEqual([]);
    expect(parseScenarios(['rain'])).toEqual(['rain']);
    expect(parseScenarios('snow')).toMatch(/unknown scenario snow/);
  });

  it('are options of stream mode only, validated with the rest', () => {
    const o = resolveOptions({ scenario: 'surge,rain', surgeZones: '3,4', surgeFactor: '6', cityHour: '8' });
    expect(o.scenarios).toEqual(['surge', 'rain']);
    expect(o.scenarioSettings).toEqual({ surgeZones: [3, 4], surgeFactor: 6 });
    expect(o.cityHour).toBe(8);
    expect(() => resolveOptions({ mode: 'seed', scenario: 'rain' })).toThrow(/stream mode/);
    expect(() => resolveOptions({ scenario: 'hail' })).toThrow(ConfigError);
    expect(() => resolveOptions({ surgeZones: 'x' })).toThrow(ConfigError);
    expect(resolveOptions({}).scenarios).toEqual([]);
  });

  it('rush-hour follows the local demand curve; nothing changes without a scenario', () => {
    const e = effectsOf(['rush-hour']);
    expect(e.demandAt(18)).toBeGreaterThan(2);
    expect(e.demandAt(3)).toBeLessThan(0.1);
    // Over a whole day rush-hour moves demand between hours, it does not add any.
    const mean = HOURLY_DEMAND.reduce((a, _h, i) => a + e.demandAt(i), 0) / 24;
    expect(mean).toBeCloseTo(1, 9);
    for (let h = 0; h < 24; h++) expect(NO_SCENARIO.demandAt(h)).toBe(1);
    expect(NO_SCENARIO.latency).toBeNull();
    expect(NO_SCENARIO.speedFactor).toBe(1);
    expect(scenarioFateWeights(DEFAULT_FATE_WEIGHTS, NO_SCENARIO)).toEqual(DEFAULT_FATE_WEIGHTS);
  });

  it('local hour is UTC+7', () => {
    expect(cityHour(Date.parse('2025-06-01T01:30:00Z'))).toBe(8);
    expect(cityHour(Date.parse('2025-06-01T20:00:00Z'))).toBe(3);
  });

  it('rain takes drivers off, slows traffic and raises only the cancellation weights', () => {
    const e = effectsOf(['rain']);
    expect(e.onlineShareFactor).toBeLessThan(1);
    expect(e.initialLogoffShare).toBeGreaterThan(0);
    expect(e.speedFactor).toBeLessThan(1);
    const w = scenarioFateWeights(DEFAULT_FATE_WEIGHTS, e);
    expect(w.complete).toBe(DEFAULT_FATE_WEIGHTS.complete);
    expect(w.systemNoDriver).toBe(DEFAULT_FATE_WEIGHTS.systemNoDriver);
    expect(w.passengerBeforeAccept).toBeGreaterThan(DEFAULT_FATE_WEIGHTS.passengerBeforeAccept);
    expect(w.driverNoShow).toBeGreaterThan(DEFAULT_FATE_WEIGHTS.driverNoShow);
  });

  it('surge multiplies pickup demand in the chosen zones only', () => {
    const world = new World(HCMC_ZONES);
    const e = effectsOf(['surge'], { surgeZones: [5], surgeFactor: 5 });
    const rng = new Rng('surge-test');
    const n = 40_000;
    let hot = 0;
    let d1 = 0;
    for (let i = 0; i < n; i++) {
      const z = world.pickupZone(rng, e.zoneDemand).id;
      if (z === 5) hot++;
      if (z === 1) d1++;
    }
    const total = HCMC_ZONES.reduce((a, z) => a + z.demandWeight, 0);
    const boost = world.demandBoost(e.zoneDemand);
    expect(boost).toBeCloseTo((total + 4 * HCMC_ZONES[4]!.demandWeight) / total, 9);
    // Requests per zone = share × total rate (× boost): ×5 in zone 5, ×1 in District 1.
    const hotBase = HCMC_ZONES[4]!.demandWeight / total;
    const d1Base = HCMC_ZONES[0]!.demandWeight / total;
    expect(((hot / n) * boost) / hotBase).toBeGreaterThan(4.5);
    expect(((hot / n) * boost) / hotBase).toBeLessThan(5.5);
    expect(((d1 / n) * boost) / d1Base).toBeGreaterThan(0.9);
    expect(((d1 / n) * boost) / d1Base).toBeLessThan(1.1);
  });

  it('network latency: booking steps late but ordered per entity, location reports out of order', () => {
    const latency = effectsOf(['network-latency']).latency!;
    const clock = new WallClock(10, { ...latency, share: 0.5 }, new Rng('latency'));
    const booking = { lastTs: 0 };
    const driver = { lastTs: 0 };
    let prev = 0;
    let late = 0;
    let backwards = 0;
    let prevReport = 0;
    for (let i = 0; i < 400; i++) {
      const before = Date.now();
      const t = clock.stamp([booking]).getTime();
      expect(t).toBeGreaterThan(prev);
      if (t < before - latency.minMs + 1) late++;
      prev = t;
      const r = clock.report(driver).getTime();
      if (r < prevReport) backwards++;
      prevReport = r;
    }
    expect(late).toBeGreaterThan(0);
    expect(backwards).toBeGreaterThan(20);
    const plain = new WallClock(10);
    const d = { lastTs: 0 };
    const a = plain.report(d).getTime();
    expect(plain.report(d).getTime()).toBeGreaterThan(a);
  });
});
