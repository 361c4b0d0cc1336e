import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { bootstrapServers } from '../../stack/components/kafka-cluster.js';
import { describeQuorum } from '../../stack/components/kafka-quorum.js';
import {
  COMPONENT_NAMES,
  type ComponentName,
  type StackConfig,
  componentNames,
  down,
  loadStackConfig,
  logFile,
  rowFails,
  status,
  up,
} from '../../stack/index.js';
import { table } from '../../ops/table.js';

function parseComponents(names: string[], cfg: StackConfig = loadStackConfig()): ComponentName[] {
  const known = componentNames(cfg);
  for (const n of names) {
    if (!(known as string[]).includes(n)) {
      throw new Error(`unknown component "${n}"; expected one of ${known.join(', ')}`);
    }
  }
  return names as ComponentName[];
}

/** The stack's configuration, with `--brokers N` read through the same reader as STACK_KAFKA_BROKERS. */
function stackConfig(brokers?: string): StackConfig {
  return loadStackConfig(
    brokers === undefined ? process.env : { ...process.env, STACK_KAFKA_BROKERS: brokers },
  );
}

const mb = (b: number) => (b ? `${Math.round(b / 1024 / 1024)} MB` : '-');

/** `ride-cdc stack up|down|status|logs`: the native local stack (see src/stack/). */
export function register(program: Command): void {
  const stack = program
    .command('stack')
    .description(
      'native local stack: PostgreSQL x2, Kafka (KRaft), Kafka Connect + Debezium, Apicurio Registry, Elasticsearch; optional Prometheus',
    );

  stack
    .command('up')
    .description(
      'start every core component (or the named ones and their dependencies; prometheus only when named); idempotent',
    )
    .argument(
      '[components...]',
      `subset of: ${COMPONENT_NAMES.join(', ')} (and kafka-2, kafka-3, … of a cluster)`,
    )
    .option(
      '--brokers <n>',
      'Kafka nodes (combined broker + controller): 3 gives replication factor 3, min ISR 2; fixed once the data is formatted',
    )
    .action(async (names: string[], opts: { brokers?: string }) => {
      const t0 = Date.now();
      const cfg = stackConfig(opts.brokers);
      const only = names.length ? parseComponents(names, cfg) : undefined;
      try {
        await up({ cfg, only, log: (l) => console.log(l) });
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 1;
        return;
      }
      console.log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (data and logs in ${cfg.dir})`);
      console.log(`KAFKA_BROKERS=${bootstrapServers(cfg)}`);
    });

  stack
    .command('down')
    .description('stop the processes this stack started (SIGTERM/SIGINT, then SIGKILL after a deadline)')
    .argument('[components...]', 'only these (default: all); dependants are not stopped for you')
    .option('--only <components>', 'comma-separated alternative to the arguments, e.g. --only kafka-2')
    .option('--kill', 'SIGKILL at once (kill -9: a crash, for fault tests) instead of a clean stop')
    .action(async (names: string[], opts: { only?: string; kill?: boolean }) => {
      const listed = [...names, ...(opts.only?.split(',').filter(Boolean) ?? [])];
      const only = listed.length ? parseComponents(listed) : undefined;
      const res = await down({ log: (l) => console.log(l), only, signal: opts.kill ? 'SIGKILL' : undefined });
      if (res.every((r) => r.result === 'not-running')) console.log('nothing was running');
    });

  stack
    .command('status')
    .description('component, port, pid, health, RSS')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const rows = await status();
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
      } else {
        console.log(
          table([
            ['COMPONENT', 'PORT', 'PID', 'RSS', 'HEALTH'],
            ...rows.map((r) => [
              r.component,
              String(r.port),
              r.pid ? String(r.pid) : '-',
              mb(r.rssBytes),
              r.health,
            ]),
          ]),
        );
      }
      if (rows.some(rowFails)) process.exitCode = 1;
    });

  stack
    .command('env')
    .description(
      'the worker environment for this stack (every bootstrap server): eval "$(ride-cdc stack env)"',
    )
    .action(() => {
      console.log(`export KAFKA_BROKERS=${bootstrapServers(loadStackConfig())}`);
    });

  stack
    .command('quorum')
    .description('the KRaft metadata quorum: active controller (leader), epoch, voters')
    .action(async () => {
      console.log(JSON.stringify(await describeQuorum(loadStackConfig())));
    });

  stack
    .command('logs')
    .description("tail a component's log")
    .argument('<component>', `${COMPONENT_NAMES.join(' | ')} | kafka-N`)
    .option('-f, --follow', 'keep following')
    .option('-n, --lines <n>', 'lines to show', '100')
    .action(async (name: string, opts: { follow?: boolean; lines: string }) => {
      const [component] = parseComponents([name]);
      const file = logFile(loadStackConfig(), component as ComponentName);
      const child = spawn('tail', ['-n', opts.lines, ...(opts.follow ? ['-F'] : []), file], {
        stdio: 'inherit',
      });
      await new Promise((res) => child.on('close', res));
    });
}
