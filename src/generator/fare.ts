/**
 * Pricing, in Vietnamese dong. All arithmetic is on integers (metres, hundredths of surge) so the
 * result is exact and equal to what SQL over the stored numeric columns computes:
 *
 *   fare = base + per_km × distance_km × surge_multiplier, rounded half-up to 100 VND
 *
 * Surge scales the distance part only; the base (flag-fall) is never surged.
 */
export type VehicleType = 'bike' | 'car' | 'car_xl';
export const VEHICLE_TYPES: readonly VehicleType[] = ['bike', 'car', 'car_xl'];

export interface Tariff {
  baseVnd: number;
  perKmVnd: number;
  /** Platform commission, percent of the amount paid. */
  platformFeePct: number;
}

export const TARIFFS: Readonly<Record<VehicleType, Tariff>> = {
  bike: { baseVnd: 12_000, perKmVnd: 4_300, platformFeePct: 20 },
  car: { baseVnd: 25_000, perKmVnd: 10_500, platformFeePct: 22 },
  car_xl: { baseVnd: 32_000, perKmVnd: 13_500, platformFeePct: 25 },
};

export const MIN_SURGE = 1.0;
export const MAX_SURGE = 2.5;

/** Rounds a distance to the precision of bookings.distance_km (numeric(8,3)). */
export function roundKm(km: number): number {
  return Math.round(km * 1000) / 1000;
}

/** Fare in VND (a multiple of 100) for a distance (km, 3 decimals) and a surge (2 decimals). */
export function computeFare(vehicle: VehicleType, distanceKm: number, surge: number): number {
  const t = TARIFFS[vehicle];
  const metres = Math.round(distanceKm * 1000);
  const surgeHundredths = Math.round(surge * 100);
  // base + perKm × metres/1000 × surge/100, in units of 100 VND, as a fraction num/den.
  const num = t.baseVnd * 100_000 + t.perKmVnd * metres * surgeHundredths;
  const den = 100_000 * 100;
  return Math.floor((2 * num + den) / (2 * den)) * 100;
}

export interface PaymentSplit {
  amount: number;
  platformFee: number;
  driverEarnings: number;
}

/** Platform fee rounded half-up to whole VND; the driver gets the rest, so the parts always add up. */
export function splitPayment(vehicle: VehicleType, amount: number): PaymentSplit {
  const platformFee = Math.floor((amount * TARIFFS[vehicle].platformFeePct * 2 + 100) / 200);
  return { amount, platformFee, driverEarnings: amount - platformFee };
}

/**
 * Surge from zone pressure: requests in the zone over the recent window per available driver
 * there (+1 so an empty zone is not infinite). Below one request per driver there is no surge;
 * above it the multiplier grows linearly, in steps of 0.1, capped at MAX_SURGE.
 */
export function surgeMultiplier(recentRequests: number, availableDrivers: number): number {
  const pressure = recentRequests / (availableDrivers + 1);
  const raw = 1 + 0.5 * Math.max(0, pressure - 1);
  const stepped = Math.round(raw * 10) / 10;
  return Math.min(MAX_SURGE, Math.max(MIN_SURGE, stepped));
}
