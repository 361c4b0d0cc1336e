import type { ComponentName } from '../../../src/stack/components/types.js';
import type { StackConfig } from '../../../src/stack/config.js';
import { down, up } from '../../../src/stack/index.js';

/** Stops one component of the native stack for real (its whole process group, its own stop signal), as an outage. */
export async function stopComponent(cfg: StackConfig, name: ComponentName): Promise<void> {
  const [r] = await down({ cfg, only: [name] });
  if (!r || r.result === 'not-running') throw new Error(`${name} was not running`);
}

/** Starts it again and waits until healthy. */
export async function startComponent(cfg: StackConfig, name: ComponentName): Promise<void> {
  await up({ cfg, only: [name] });
}
