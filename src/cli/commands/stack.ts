import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import {
  COMPONENT_NAMES,
  type ComponentName,
  down,
  loadStackConfig,
  logFile,
  rowFails,
  status,
  up,
} from '../../stack/index.js';
import { table } from '../../ops/table.js';

function parseComponents(names: string[]): ComponentName[] {
  for (const n of names) {
    if (!(COMPONENT_NAMES as string[]).includes(n)) {
      throw new Error(`unknown component "${n}"; expected one of ${COMPONENT_NAMES.join(', ')}`);
    }
  }
  return names as ComponentName[];
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
    .argument('[components...]', `subset of: ${COMPONENT_NAMES.join(', ')}`)
    .action(async (names: string[]) => {
      const t0 = Date.now();
      const cfg = loadStackConfig();
      const only = names.length ? parseComponents(names) : undefined;
      try {
        await up({ cfg, only, log: (l) => console.log(l) });
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 1;
        return;
      }
      console.log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (data and logs in ${cfg.dir})`);
    });

  stack
    .command('down')
    .description('stop the processes this stack started (SIGTERM/SIGINT, then SIGKILL after a deadline)')
    .argument('[components...]', 'only these (default: all); dependants are not stopped for you')
    .action(async (names: string[]) => {
      const only = names.length ? parseComponents(names) : undefined;
      const res = await down({ log: (l) => console.log(l), only });
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
    .command('logs')
    .description("tail a component's log")
    .argument('<component>', COMPONENT_NAMES.join(' | '))
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
