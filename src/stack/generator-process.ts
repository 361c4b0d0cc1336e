import { spawn } from 'node:child_process';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '../..');

/**
 * Runs `ride-cdc generate` as a child process (the same command users run) and resolves with its
 * exit code once it stops by itself (--seconds) or is stopped. Output is kept for failure messages.
 */
export function runGenerator(
  env: Record<string, string>,
  args: string[],
): { done: Promise<{ code: number | null; output: string }>; stop: () => void } {
  const child = spawn(process.execPath, [join(REPO, 'bin/ride-cdc.js'), 'generate', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-10_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // A run with --seconds N > 0 still going five minutes past N is stuck (a blocked query, say):
  // killed, it resolves with code null and a line saying so instead of hanging its caller.
  // (--seconds 0 runs until stopped.)
  const seconds = args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 0;
  const boundS = seconds + 300;
  const timer =
    seconds > 0
      ? setTimeout(() => {
          output += `\n[runGenerator] still running ${boundS} s after its start (--seconds ${seconds}): killed\n`;
          child.kill('SIGKILL');
        }, boundS * 1000)
      : undefined;
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
  return { done, stop: () => child.kill('SIGINT') };
}

export async function generate(env: Record<string, string>, args: string[]): Promise<string> {
  const { code, output } = await runGenerator(env, args).done;
  if (code !== 0) throw new Error(`generate ${args.join(' ')} exited with ${code}:\n${output}`);
  return output;
}

/** The `tiny` seeded world most e2e scenarios start from (before the connector snapshots it). */
export function seedTiny(env: Record<string, string>, seed: number | string): Promise<void> {
  return generate(env, ['--mode', 'seed', '--volume', 'tiny', '--seed', String(seed)]).then(() => undefined);
}
