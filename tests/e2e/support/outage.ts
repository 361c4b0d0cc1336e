import { join } from 'node:path';
import type { ComponentName } from '../../../src/stack/components/types.js';
import type { StackConfig } from '../../../src/stack/config.js';
import { up } from '../../../src/stack/index.js';
import { readPid, removePid, stopGroup } from '../../../src/stack/processes.js';

/** Stops one component of the native stack for real (its whole process group), as an outage. */
export async function stopComponent(cfg: StackConfig, name: ComponentName): Promise<void> {
  const pidFile = join(cfg.dir, 'run', `${name}.pid`);
  const rec = readPid(pidFile);
  if (!rec) throw new Error(`${name} is not running from ${pidFile}`);
  await stopGroup(rec, 'SIGTERM', 30_000);
  await removePid(pidFile);
}

/** Starts it again and waits until healthy. */
export async function startComponent(cfg: StackConfig, name: ComponentName): Promise<void> {
  await up({ cfg, only: [name] });
}
