import type { ComponentName } from '../../../src/stack/components/types.js';
import { type StackConfig, paths } from '../../../src/stack/config.js';
import { down, up } from '../../../src/stack/index.js';
import { isOurs, readPid } from '../../../src/stack/processes.js';

/** Stops one component of the native stack for real (its whole process group, its own stop signal), as an outage. */
export async function stopComponent(cfg: StackConfig, name: ComponentName): Promise<void> {
  const [r] = await down({ cfg, only: [name] });
  if (!r || r.result === 'not-running') throw new Error(`${name} was not running`);
}

/** kill -9 of the component's whole process group: a crash, nothing flushed, no goodbye to peers. */
export async function killComponent(cfg: StackConfig, name: ComponentName): Promise<void> {
  const [r] = await down({ cfg, only: [name], signal: 'SIGKILL' });
  if (!r || r.result === 'not-running') throw new Error(`${name} was not running`);
}

/** Starts it again and waits until healthy. */
export async function startComponent(cfg: StackConfig, name: ComponentName): Promise<void> {
  await up({ cfg, only: [name] });
}

/**
 * SIGSTOP / SIGCONT of the component's process group: the process keeps its sockets open but
 * answers nothing — a hung or GC-stalled service, which a client sees as slowness, not refusal.
 */
export function signalComponent(cfg: StackConfig, name: ComponentName, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const rec = readPid(paths(cfg).pid(name));
  if (!isOurs(rec)) throw new Error(`${name} is not running from this stack's pid file (${cfg.dir})`);
  process.kill(-rec.pid, signal);
}
