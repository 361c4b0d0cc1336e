import { defineConfig } from 'vitest/config';

// Three projects, run one after another: `unit` needs no services; `integration` runs against the
// real native stack, which tests/integration/global-setup.ts brings up (or reuses) once per run;
// `secure` against a secured stack of its own (tests/secure/global-setup.ts).
/**
 * Live scenarios that have no passing run on the merged code yet, each with the reason; they run
 * with `npm run test:pending` and move into `integration` once they pass. None at the moment
 * (dashboards-browser moved into `integration` after passing live twice in a row).
 */
const PENDING: string[] = [];

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
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
          exclude: PENDING,
          environment: 'node',
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          // The suites share one stack (ports, connector, indices); running them one at a time keeps
          // their assertions about exact counts independent of each other.
          fileParallelism: false,
          // Projects of one group order run at once; the two live suites must not share 2 cores.
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Scenarios written this session that have not yet passed on the merged code (see
        // PENDING): `npm run test:pending`, not part of `npm test` until they do.
        test: {
          name: 'pending',
          include: PENDING,
          environment: 'node',
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
      {
        // The secured native stack (its own ports and STACK_DIR, see tests/secure/global-setup.ts).
        // Its global setup points process.env at that stack, so `npm test` runs it in a vitest
        // process of its own, after unit and integration.
        // refusals of unauthenticated clients, least privilege, the mart e2e on it, secrets in logs.
        test: {
          name: 'secure',
          include: ['tests/secure/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/secure/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
