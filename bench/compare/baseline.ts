import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');

/**
 * A checkout of another commit to drain with in the same run (`--baseline <commit>`): a detached
 * git worktree under the temp dir with its own `npm ci`, kept for the next run (same commit, same
 * directory). Remove with `git worktree remove <dir>`.
 */
export async function baselineCheckout(commit: string): Promise<{ dir: string; commit: string }> {
  const full = (
    await run('git', ['rev-parse', '--verify', `${commit}^{commit}`], { cwd: REPO })
  ).stdout.trim();
  const dir = join(tmpdir(), `ride-cdc-baseline-${full.slice(0, 12)}`);
  if (!existsSync(join(dir, 'package.json'))) {
    await run('git', ['worktree', 'add', '--detach', dir, full], { cwd: REPO });
  }
  if (!existsSync(join(dir, 'node_modules', '.package-lock.json'))) {
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  }
  return { dir, commit: full };
}
