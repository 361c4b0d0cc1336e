/**
 * Ho Chi Minh City districts used as zones. The same rows are seeded by
 * mart-sql/source/002_zones.sql (a unit test keeps the two in step); at run time the generator
 * reads the zones table, so extra zones added by a later migration are picked up.
 *
 * Centroids are the districts' approximate geographic centres; each box is a small lat/lon square
 * around it (half-size ≈ 1–4 km). Boxes may overlap a little: lookup prefers the nearest centroid.
 */
import { equirectKm } from './geo.js';

export interface Zone {
  id: number;
  code: string;
  name: string;
  centerLat: number;
  centerLon: number;
  minLat: number;
  maxLat: number;
  minLon: number;
  maxLon: number;
  /** Relative ride demand (requests originate proportionally to it). */
  demandWeight: number;
}

interface ZoneSpec {
  id: number;
  code: string;
  name: string;
  lat: number;
  lon: number;
  /** Half-size of the box in degrees. */
  half: number;
  weight: number;
}

const SPECS: ZoneSpec[] = [
  { id: 1, code: 'D1', name: 'District 1', lat: 10.7756, lon: 106.7019, half: 0.011, weight: 3.0 },
  { id: 2, code: 'D3', name: 'District 3', lat: 10.7828, lon: 106.6866, half: 0.009, weight: 2.0 },
  { id: 3, code: 'D4', name: 'District 4', lat: 10.7579, lon: 106.7044, half: 0.007, weight: 1.0 },
  { id: 4, code: 'D5', name: 'District 5', lat: 10.7557, lon: 106.6685, half: 0.009, weight: 1.2 },
  { id: 5, code: 'D6', name: 'District 6', lat: 10.7469, lon: 106.6352, half: 0.011, weight: 0.7 },
  { id: 6, code: 'D7', name: 'District 7', lat: 10.734, lon: 106.7218, half: 0.018, weight: 1.6 },
  { id: 7, code: 'D8', name: 'District 8', lat: 10.7243, lon: 106.6285, half: 0.015, weight: 0.7 },
  { id: 8, code: 'D10', name: 'District 10', lat: 10.7731, lon: 106.668, half: 0.008, weight: 1.4 },
  { id: 9, code: 'D11', name: 'District 11', lat: 10.7629, lon: 106.6502, half: 0.008, weight: 0.8 },
  { id: 10, code: 'BTH', name: 'Binh Thanh', lat: 10.8106, lon: 106.7091, half: 0.016, weight: 2.2 },
  { id: 11, code: 'PNH', name: 'Phu Nhuan', lat: 10.7992, lon: 106.6803, half: 0.008, weight: 1.5 },
  { id: 12, code: 'TBI', name: 'Tan Binh', lat: 10.8015, lon: 106.6527, half: 0.014, weight: 1.8 },
  { id: 13, code: 'TPH', name: 'Tan Phu', lat: 10.7918, lon: 106.6282, half: 0.011, weight: 0.9 },
  { id: 14, code: 'GVP', name: 'Go Vap', lat: 10.8387, lon: 106.6653, half: 0.016, weight: 1.3 },
  { id: 15, code: 'TDC', name: 'Thu Duc', lat: 10.8494, lon: 106.7717, half: 0.035, weight: 1.5 },
  { id: 16, code: 'BTN', name: 'Binh Tan', lat: 10.7653, lon: 106.6037, half: 0.02, weight: 0.9 },
];

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export const HCMC_ZONES: readonly Zone[] = SPECS.map((s) => ({
  id: s.id,
  code: s.code,
  name: s.name,
  centerLat: s.lat,
  centerLon: s.lon,
  minLat: round6(s.lat - s.half),
  maxLat: round6(s.lat + s.half),
  minLon: round6(s.lon - s.half),
  maxLon: round6(s.lon + s.half),
  demandWeight: s.weight,
}));

/** Point → zone lookups over a fixed set of zones. */
export class ZoneIndex {
  readonly zones: readonly Zone[];
  private readonly byId = new Map<number, Zone>();

  constructor(zones: readonly Zone[]) {
    if (zones.length === 0)
      throw new Error('ZoneIndex needs at least one zone (is migration 002_zones applied?)');
    this.zones = [...zones].sort((a, b) => a.id - b.id);
    for (const z of this.zones) this.byId.set(z.id, z);
  }

  get(id: number): Zone {
    const z = this.byId.get(id);
    if (!z) throw new Error(`unknown zone ${id}`);
    return z;
  }

  /**
   * The zone whose box contains the point, preferring the nearest centroid when boxes overlap;
   * outside every box, the zone with the nearest centroid.
   */
  lookup(lat: number, lon: number): Zone {
    let best: Zone | undefined;
    let bestD = Infinity;
    let inside = false;
    for (const z of this.zones) {
      const contains = lat >= z.minLat && lat <= z.maxLat && lon >= z.minLon && lon <= z.maxLon;
      if (inside && !contains) continue;
      const d = equirectKm(lat, lon, z.centerLat, z.centerLon);
      if ((contains && !inside) || d < bestD) {
        best = z;
        bestD = d;
        inside = inside || contains;
      }
    }
    return best!;
  }
}
