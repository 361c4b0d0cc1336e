/**
 * `ride-cdc generate`: the ride-hailing simulator writing into ride_hailing_db (GENERATOR_PG*).
 * This command owns the process signals for the run: the first SIGINT/SIGTERM lets the current
 * tick finish, closes the pool and prints totals; a second one exits at once.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { runGenerator } from '../../generator/index.js';
import { DEFAULT_SEED_BASE_TIME, type GeneratorInput } from '../../generator/options.js';
import { SCENARIOS } from '../../generator/scenarios.js';
import { VOLUMES } from '../../generator/volumes.js';
import { errorMessage } from '../../shared/errors.js';

interface GenerateCliOptions {
  mode: 'seed' | 'stream';
  volume: string;
  seconds: string;
  ticks: string;
  seed: string;
  baseTime?: string;
  days?: string;
  bookings?: string;
  drivers?: string;
  passengers?: string;
  rate: string;
  streamMaxInflight?: string;
  streamNewBookingProb?: string;
  streamDriverUpdates?: string;
  streamSleepMin?: string;
  streamSleepMax?: string;
  streamSimSecondsPerTick?: string;
  streamLocationBatch?: string;
  seedTickSeconds: string;
  poolSize: string;
  synchronousCommit: string;
  migrate: boolean;
  ifSeeded: 'fail' | 'skip';
  progressInterval: string;
  json: boolean;
  scenario?: string;
  surgeZones?: string;
  surgeFactor?: string;
  cityHour?: string;
}

export function register(program: Command): void {
  program
    .command('generate')
    .description(
      'simulate a ride-hailing city into ride_hailing_db (GENERATOR_PGHOST/PGPORT/PGDB/PGUSER/PGPASSWORD)',
    )
    .addOption(
      new Option('--mode <mode>', 'seed: population + history on simulated time; stream: live simulation')
        .choices(['seed', 'stream'])
        .default('stream'),
    )
    .addOption(
      new Option('--volume <volume>', 'population and load preset (see docs/generator.md)')
        .choices([...VOLUMES])
        .default('small'),
    )
    .option('--seconds <n>', 'stream duration in seconds; 0 = until Ctrl-C', '0')
    .option(
      '--ticks <n>',
      'stream: stop after this many ticks (same city time on any machine); 0 = no limit',
      '0',
    )
    .option('--seed <s>', 'random seed; seed mode on a fresh database is reproducible', '42')
    .option('--base-time <iso|now>', `seed mode: history ends here (default ${DEFAULT_SEED_BASE_TIME})`)
    .option('--days <n>', 'seed mode: days of history (default per volume)')
    .option('--bookings <n>', 'seed mode: bookings requested in the history (default per volume)')
    .option('--drivers <n>', 'population override (default per volume)')
    .option('--passengers <n>', 'population override (default per volume)')
    .option('--rate <rows-per-s|unlimited>', 'target source-row writes per second', 'unlimited')
    .option('--stream-max-inflight <n>', 'max bookings in flight at once (default per volume)')
    .option(
      '--stream-new-booking-prob <p>',
      'per tick, chance that each free in-flight slot gets a new request',
      '0.05',
    )
    .option('--stream-driver-updates <n>', 'periodic driver location reports per tick (default per volume)')
    .option('--stream-sleep-min <ms>', 'pause between ticks, lower bound', '50')
    .option('--stream-sleep-max <ms>', 'pause between ticks, upper bound', '250')
    .option('--stream-sim-seconds-per-tick <s>', 'city time one tick represents', '10')
    .option(
      '--stream-location-batch <n>',
      'periodic location reports per UPDATE statement (1 = one per report)',
      '1',
    )
    .option('--seed-tick-seconds <s>', 'seed mode: simulated seconds per tick', '30')
    .option('--pool-size <n>', 'stream mode connections', '8')
    .addOption(
      new Option('--synchronous-commit <on|off>', 'session synchronous_commit for the generator')
        .choices(['on', 'off'])
        .default('on'),
    )
    .option('--no-migrate', 'do not apply mart-sql/source migrations first')
    .addOption(
      new Option('--if-seeded <what>', 'seed mode on a non-empty database')
        .choices(['fail', 'skip'])
        .default('fail'),
    )
    .option(
      '--scenario <names>',
      `stream mode: comma-separated scenarios (${SCENARIOS.join(', ')}); see docs/generator.md`,
    )
    .option('--surge-zones <ids>', 'scenario surge: zone ids with boosted demand (default 1,2)')
    .option('--surge-factor <n>', 'scenario surge: demand multiplier in those zones (default 4)')
    .option('--city-hour <h>', "stream mode: the city's local hour at start (default: now in UTC+7)")
    .option('--progress-interval <s>', 'seconds between progress lines (0 = none)', '5')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (o: GenerateCliOptions) => {
      const input: GeneratorInput = {
        mode: o.mode,
        volume: o.volume as GeneratorInput['volume'],
        seconds: o.seconds,
        ticks: o.ticks,
        seed: o.seed,
        baseTime: o.baseTime,
        days: o.days,
        bookings: o.bookings,
        drivers: o.drivers,
        passengers: o.passengers,
        rate: o.rate,
        stream: {
          maxInflight: o.streamMaxInflight,
          newBookingProb: o.streamNewBookingProb,
          driverUpdates: o.streamDriverUpdates,
          sleepMinMs: o.streamSleepMin,
          sleepMaxMs: o.streamSleepMax,
          simSecondsPerTick: o.streamSimSecondsPerTick,
          locationBatch: o.streamLocationBatch,
        },
        seedTickSeconds: o.seedTickSeconds,
        poolSize: o.poolSize,
        synchronousCommit: o.synchronousCommit,
        migrate: o.migrate,
        ifSeeded: o.ifSeeded,
        progressIntervalMs: Number(o.progressInterval) * 1000,
        scenario: o.scenario,
        surgeZones: o.surgeZones,
        surgeFactor: o.surgeFactor,
        cityHour: o.cityHour,
      };
      const ac = new AbortController();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          process.stderr.write(`[generate] second ${sig}: exiting now\n`);
          process.exit(130);
        }
        process.stderr.write(`[generate] ${sig}: finishing the current step…\n`);
        ac.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const result = await runGenerator(input, ac.signal);
        if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } catch (err) {
        process.stderr.write(`[generate] failed: ${errorMessage(err)}\n`);
        process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
