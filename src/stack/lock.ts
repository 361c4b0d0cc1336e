import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A cross-process lock file, so two `up`s at once (a developer and a test run sharing one .stack/)
 * never resolve artifacts into the same directory or start the same service twice. The file holds
 * the owner's pid; a lock whose owner is gone is taken over.
 */
export async function withLock<T>(
  file: string,
  timeoutMs: number,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readSafe(file));
      if (!owner || !alive(owner)) {
        try {
          unlinkSync(file);
        } catch {
          // someone else took it over first
        }
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`${what}: still locked by pid ${owner} after ${timeoutMs} ms (${file})`);
      if (!announced) {
        process.stderr.write(`${what}: waiting for pid ${owner} (${file})\n`);
        announced = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      if (Number(readSafe(file)) === process.pid) unlinkSync(file);
    } catch {
      // already gone
    }
  }
}

function readSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
