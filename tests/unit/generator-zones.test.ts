import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haversineKm, moveToward, bearingDeg } from '../../src/generator/geo.js';
import { Rng } from '../../src/generator/rng.js';
import { World } from '../../src/generator/world.js';
import { HCMC_ZONES, ZoneIndex } from '../../src/generator/zones.js';

const index = new ZoneIndex(HCMC_ZONES);

describe('zones', () => {
  it('are 12–16 Ho Chi Minh City districts with sane boxes', () => {
    expect(HCMC_ZONES.length).toBeGreaterThanOrEqual(12);
    expect(HCMC_ZONES.length).toBeLessThanOrEqual(16);
    for (const z of HCMC_ZONES) {
      expect(z.centerLat).toBeGreaterThan(10.6);
      expect(z.centerLat).toBeLessThan(10.95);
      expect(z.centerLon).toBeGreaterThan(106.55);
      expect(z.centerLon).toBeLessThan(106.85);
      expect(z.minLat).toBeLessThan(z.centerLat);
      expect(z.maxLat).toBeGreaterThan(z.centerLat);
      expect(z.minLon).toBeLessThan(z.centerLon);
      expect(z.maxLon).toBeGreaterThan(z.centerLon);
      expect(z.demandWeight).toBeGreaterThan(0);
    }
  });

  it('match the seed migration row for row', () => {
    const sql = readFileSync(join(import.meta.dirname, '../../mart-sql/source/002_zones.sql'), 'utf8');
    const rows = [
      ...sql.matchAll(
        /\((\d+), '([^']+)', '([^']+)', '[^']+', ([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+)\)/g,
      ),
    ];
    expect(rows.map((m) => [Number(m[1]), m[2], m[3], ...m.slice(4).map(Number)])).toEqual(
      HCMC_ZONES.map((z) => [
        z.id,
        z.code,
        z.name,
        z.centerLat,
        z.centerLon,
        z.minLat,
        z.maxLat,
        z.minLon,
        z.maxLon,
        z.demandWeight,
      ]),
    );
  });

  it('look every centroid up as its own zone', () => {
    for (const z of HCMC_ZONES) expect(index.lookup(z.centerLat, z.centerLon).id).toBe(z.id);
  });

  it('resolve overlapping boxes to the nearest centroid and outside points to the nearest zone', () => {
    // Ben Thanh market, District 1
    expect(index.lookup(10.7725, 106.698).code).toBe('D1');
    // Tan Son Nhat airport, Tan Binh
    expect(index.lookup(10.8155, 106.6587).code).toBe('TBI');
    // Outside every box (Nha Be, south of District 7) → nearest centroid
    expect(index.lookup(10.69, 106.74).code).toBe('D7');
  });

  it('place random points mostly inside the chosen zone', () => {
    const world = new World(HCMC_ZONES);
    const rng = new Rng('points');
    let own = 0;
    for (let i = 0; i < 2000; i++) {
      const z = rng.pick(HCMC_ZONES);
      const p = world.randomPointIn(rng, z);
      expect(p.lat).toBeGreaterThanOrEqual(z.minLat);
      expect(p.lat).toBeLessThanOrEqual(z.maxLat);
      expect(p.zoneId).toBe(index.lookup(p.lat, p.lon).id);
      if (p.zoneId === z.id) own++;
    }
    expect(own / 2000).toBeGreaterThan(0.9);
  });
});

describe('geo', () => {
  it('measures District 1 → Tan Son Nhat at about 6 km', () => {
    const d = haversineKm(10.7769, 106.7009, 10.8185, 106.6588);
    expect(d).toBeGreaterThan(6);
    expect(d).toBeLessThan(7);
  });

  it('moves toward a target and snaps onto it on arrival', () => {
    const a = moveToward(10.77, 106.7, 10.78, 106.7, 0.5);
    expect(a.arrived).toBe(false);
    expect(a.movedKm).toBe(0.5);
    expect(haversineKm(10.77, 106.7, a.lat, a.lon)).toBeCloseTo(0.5, 2);
    const b = moveToward(a.lat, a.lon, 10.78, 106.7, 5);
    expect(b).toMatchObject({ lat: 10.78, lon: 106.7, arrived: true });
    expect(bearingDeg(10.77, 106.7, 10.78, 106.7)).toBeCloseTo(0, 5);
    expect(bearingDeg(10.77, 106.7, 10.77, 106.71)).toBeCloseTo(90, 1);
  });
});
