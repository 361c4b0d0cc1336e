import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writePrivateFile } from '../../stack/private-file.js';
import { generateSecretsEnv } from '../../stack/security.js';
import type { Command } from 'commander';
import {
  COMPONENT_NAMES,
  type ComponentName,
  down,
  loadStackConfig,
  logFile,
  status,
  up,
} from '../../stack/index.js';

function parseComponents(names: string[]): ComponentName[] {
  for (const n of names) {
    if (!(COMPONENT_NAMES as string[]).includes(n)) {
      throw new Error(`unknown component "${n}"; expected one of ${COMPONENT_NAMES.join(', ')}`);
    }
  }
  return names as ComponentName[];
}

const mb = (b: number) => (b ? `${Math.round(b / 1024 / 1024)} MB` : '-');

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const SECURE_HELP =
  'secured mode (same as STACK_SECURE=true): TLS, SASL/SCRAM, ACLs, authenticated REST APIs; every STACK_*_PASSWORD must be set (see `stack secrets`)';

/** `ride-cdc stack up|down|status|logs`: the native local stack (see src/stack/). */
export function register(program: Command): void {
  const stack = program
    .command('stack')
    .description(
      'native local stack: PostgreSQL x2, Kafka (KRaft), Kafka Connect + Debezium, Apicurio Registry, Elasticsearch',
    );

  stack
    .command('up')
    .description('start every component (or the named ones and their dependencies); idempotent')
    .argument('[components...]', `subset of: ${COMPONENT_NAMES.join(', ')}`)
    .option('--secure', SECURE_HELP)
    .action(async (names: string[], opts: { secure?: boolean }) => {
      const t0 = Date.now();
      if (opts.secure) process.env.STACK_SECURE = 'true';
      let cfg;
      try {
        cfg = loadStackConfig();
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 2;
        return;
      }
      const only = names.length ? parseComponents(names) : undefined;
      try {
        await up({ cfg, only, log: (l) => console.log(l) });
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 1;
        return;
      }
      console.log(
        `${cfg.security ? 'secured ' : ''}stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (data and logs in ${cfg.dir})`,
      );
    });

  stack
    .command('secrets')
    .description(
      'print (or write, mode 0600) an env file with fresh random values for every secret of the secured stack',
    )
    .option('-o, --out <file>', 'write it here instead of stdout')
    .action(async (opts: { out?: string }) => {
      const text = generateSecretsEnv((n) => randomBytes(n).toString('base64url'));
      if (opts.out) await writePrivateFile(opts.out, text);
      else process.stdout.write(text);
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
    .option('--secure', SECURE_HELP)
    .action(async (opts: { json?: boolean; secure?: boolean }) => {
      if (opts.secure) process.env.STACK_SECURE = 'true';
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
      if (!rows.every((r) => r.health.startsWith('up'))) process.exitCode = 1;
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
