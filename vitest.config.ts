import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no services; `integration` runs against the real native stack,
// which tests/integration/global-setup.ts brings up (or reuses) once per run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          // Pure tests, but the property tests do real work: on a loaded 2-core box 5 s is not enough.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          // The suites share one stack (ports, connector, indices); running them one at a time keeps
          // their assertions about exact counts independent of each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
