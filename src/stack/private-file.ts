import { chown, open, rm } from 'node:fs/promises';
import type { RunAs } from './user.js';

/**
 * Writes a file that holds secrets: created with mode 0600 from the first byte (never written
 * world-readable and narrowed afterwards), owned by the service account that reads it.
 */
export async function writePrivateFile(path: string, content: string, runAs?: RunAs): Promise<void> {
  // 'wx' creates; an existing file (maybe with wider permissions) is replaced, not reused.
  await rm(path, { force: true });
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
  if (runAs) await chown(path, runAs.uid, runAs.gid);
}
