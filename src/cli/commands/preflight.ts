import type { Command } from 'commander';
import { EnvReader } from '../../config/env.js';
import { preflight } from '../../ops/preflight.js';
import { checkTable, checksExitCode, type CheckRow } from '../../ops/table.js';
import { loadStackConfig } from '../../stack/index.js';

/** Runs the checks; prints the table and, on failure, the first problem to fix. */
export async function runPreflight(print: (s: string) => void): Promise<CheckRow[]> {
  const r = new EnvReader(process.env);
  const limits = {
    minDiskGb: r.int('PREFLIGHT_MIN_DISK_GB', 5, 0),
    minMemoryGb: r.int('PREFLIGHT_MIN_MEMORY_GB', 4, 0),
    metricsPort: r.int('METRICS_PORT', 9464, 1, 65535),
  };
  r.done();
  const rows = await preflight(loadStackConfig(), limits);
  print(checkTable(rows));
  const failed = rows.filter((x) => x.status === 'fail');
  if (failed.length > 0) {
    print(
      `\npreflight failed (${failed.length} problem(s)); fix this first:\n  ${failed[0]!.component}: ${failed[0]!.detail}`,
    );
  }
  return rows;
}

export function register(program: Command): void {
  program
    .command('preflight')
    .description('check Node, Java, Maven, free ports, disk, memory and Docker before starting the stack')
    .action(async () => {
      const rows = await runPreflight((s) => console.log(s));
      process.exitCode = checksExitCode(rows);
    });
}
