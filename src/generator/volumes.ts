/**
 * Volume presets. `large` is 20× `small` in population and seeded history. The stream knobs scale
 * with the population so a bigger city also writes more rows per tick.
 */
export const VOLUMES = ['tiny', 'small', 'medium', 'large'] as const;
export type Volume = (typeof VOLUMES)[number];

export interface VolumePreset {
  drivers: number;
  passengers: number;
  /** Seed mode: days of history ending at --base-time, and bookings requested in it. */
  seedDays: number;
  seedBookings: number;
  /** Stream mode defaults. */
  maxInflight: number;
  driverUpdatesPerTick: number;
}

export const VOLUME_PRESETS: Readonly<Record<Volume, VolumePreset>> = {
  tiny: {
    drivers: 20,
    passengers: 50,
    seedDays: 1,
    seedBookings: 150,
    maxInflight: 8,
    driverUpdatesPerTick: 4,
  },
  small: {
    drivers: 200,
    passengers: 1_000,
    seedDays: 3,
    seedBookings: 2_000,
    maxInflight: 40,
    driverUpdatesPerTick: 20,
  },
  medium: {
    drivers: 1_000,
    passengers: 5_000,
    seedDays: 7,
    seedBookings: 10_000,
    maxInflight: 150,
    driverUpdatesPerTick: 80,
  },
  large: {
    drivers: 4_000,
    passengers: 20_000,
    seedDays: 7,
    seedBookings: 40_000,
    maxInflight: 600,
    driverUpdatesPerTick: 300,
  },
};
