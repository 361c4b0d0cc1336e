/** Small-distance geometry on the WGS84 sphere; accurate to well under 1% at city scale. */

const EARTH_KM = 6371.0088;
const RAD = Math.PI / 180;

/** Great-circle distance in km. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Equirectangular approximation: cheap, fine for ranking nearby points. */
export function equirectKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const x = (lon2 - lon1) * RAD * Math.cos(((lat1 + lat2) / 2) * RAD);
  const y = (lat2 - lat1) * RAD;
  return Math.sqrt(x * x + y * y) * EARTH_KM;
}

/** Initial bearing from point 1 to point 2, degrees in [0, 360). */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const y = Math.sin((lon2 - lon1) * RAD) * Math.cos(lat2 * RAD);
  const x =
    Math.cos(lat1 * RAD) * Math.sin(lat2 * RAD) -
    Math.sin(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.cos((lon2 - lon1) * RAD);
  const deg = Math.atan2(y, x) / RAD;
  return (deg + 360) % 360;
}

export interface Step {
  lat: number;
  lon: number;
  /** Distance actually covered, km. */
  movedKm: number;
  arrived: boolean;
}

/** Moves up to `km` along the straight line toward the target; snaps onto it when within reach. */
export function moveToward(lat: number, lon: number, toLat: number, toLon: number, km: number): Step {
  const remaining = equirectKm(lat, lon, toLat, toLon);
  if (remaining <= km) return { lat: toLat, lon: toLon, movedKm: remaining, arrived: true };
  const f = km / remaining;
  return { lat: lat + (toLat - lat) * f, lon: lon + (toLon - lon) * f, movedKm: km, arrived: false };
}

export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
