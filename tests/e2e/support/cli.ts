import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../../bin/ride-cdc.js');

/**
 * Runs `ride-cdc <args>` with `env` over this process's; resolves with its exit code, stdout+stderr
 * and wall time. A command still running after `timeoutMs` is killed (-9) and resolves with code
 * null and a line saying so, so a hung command fails its own assertion instead of the test's timeout.
 */
export function runCli(
  env: Record<string, string>,
  args: string[],
  timeoutMs = 240_000,
): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const timer = setTimeout(() => {
    out += `\n[runCli] ride-cdc ${args.join(' ')} still running after ${timeoutMs} ms: killed\n`;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: performance.now() - t0 });
    }),
  );
}
