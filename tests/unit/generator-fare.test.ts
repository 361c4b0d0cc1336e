import { describe, expect, it } from 'vitest';
import {
  MAX_SURGE,
  TARIFFS,
  computeFare,
  roundKm,
  splitPayment,
  surgeMultiplier,
  VEHICLE_TYPES,
} from '../../src/generator/fare.js';

describe('computeFare', () => {
  it('is base + per_km × km × surge, rounded to 100 VND', () => {
    // car: 25 000 + 10 500 × 7.5 = 103 750 → 103 800
    expect(computeFare('car', 7.5, 1)).toBe(103_800);
    // bike: 12 000 + 4 300 × 3.2 × 1.5 = 32 640 → 32 600
    expect(computeFare('bike', 3.2, 1.5)).toBe(32_600);
    // car_xl: 32 000 + 13 500 × 10 × 2 = 302 000
    expect(computeFare('car_xl', 10, 2)).toBe(302_000);
  });

  it('rounds half up exactly, without floating-point drift', () => {
    // bike: 12 000 + 4 300 × 0.5 = 14 150 → 14 200 (half up)
    expect(computeFare('bike', 0.5, 1)).toBe(14_200);
    // 0.1 + 0.2 style inputs still land on exact multiples of 100
    for (let m = 0; m < 5_000; m += 7) {
      const f = computeFare('car', m / 1000, 1.3);
      expect(f % 100).toBe(0);
      const exact = TARIFFS.car.baseVnd + (TARIFFS.car.perKmVnd * m * 130) / 100_000;
      expect(Math.abs(f - exact)).toBeLessThanOrEqual(50);
    }
  });

  it('never surges the base fare and grows with distance and surge', () => {
    for (const v of VEHICLE_TYPES) {
      expect(computeFare(v, 0, 2.5)).toBe(TARIFFS[v].baseVnd);
      expect(computeFare(v, 5, 1)).toBeLessThan(computeFare(v, 6, 1));
      expect(computeFare(v, 5, 1)).toBeLessThan(computeFare(v, 5, 1.5));
    }
  });

  it('uses the stored precision of distance_km', () => {
    expect(roundKm(3.14159)).toBe(3.142);
    expect(computeFare('car', 3.14159, 1)).toBe(computeFare('car', roundKm(3.14159), 1));
  });
});

describe('splitPayment', () => {
  it('takes the platform commission and gives the driver the rest', () => {
    expect(splitPayment('car', 100_000)).toEqual({
      amount: 100_000,
      platformFee: 22_000,
      driverEarnings: 78_000,
    });
    expect(splitPayment('bike', 32_600)).toEqual({
      amount: 32_600,
      platformFee: 6_520,
      driverEarnings: 26_080,
    });
    for (const v of VEHICLE_TYPES) {
      for (const amount of [10_000, 14_200, 99_900, 302_000]) {
        const p = splitPayment(v, amount);
        expect(p.platformFee + p.driverEarnings).toBe(amount);
        expect(p.platformFee / amount).toBeGreaterThanOrEqual(0.2);
        expect(p.platformFee / amount).toBeLessThanOrEqual(0.25);
      }
    }
  });
});

describe('surgeMultiplier', () => {
  it('is 1 while requests do not outnumber drivers', () => {
    expect(surgeMultiplier(0, 0)).toBe(1);
    expect(surgeMultiplier(5, 10)).toBe(1);
    expect(surgeMultiplier(11, 10)).toBe(1);
  });

  it('rises in 0.1 steps with pressure and is capped', () => {
    // pressure = requests / (drivers + 1); surge = 1 + 0.5 × (pressure − 1)
    expect(surgeMultiplier(4, 1)).toBe(1.5);
    expect(surgeMultiplier(6, 1)).toBe(2);
    expect(surgeMultiplier(13, 4)).toBe(1.8);
    expect(surgeMultiplier(1000, 0)).toBe(MAX_SURGE);
    let prev = 1;
    for (let r = 0; r < 50; r++) {
      const s = surgeMultiplier(r, 4);
      expect(s).toBeGreaterThanOrEqual(prev);
      expect(Math.round(s * 10)).toBeCloseTo(s * 10, 9);
      prev = s;
    }
  });
});
