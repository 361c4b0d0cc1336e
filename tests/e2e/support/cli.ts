import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../../bin/ride-cdc.js');

/** Runs `ride-cdc <args>` with `env` over this process's; resolves with its exit code, stdout+stderr and wall time. */
export function runCli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => resolve({ code, out, ms: performance.now() - t0 })),
  );
}
