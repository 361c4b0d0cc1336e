import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PSYCOPG2_VERSION, SUPERSET_VERSION, type SupersetSettings } from './settings.js';

const run = promisify(execFile);
export const CONSTRAINTS_FILE = join(import.meta.dirname, 'constraints.txt');

/** What the venv was built from: a change to any of it rebuilds the venv. */
async function fingerprint(): Promise<string> {
  const constraints = await readFile(CONSTRAINTS_FILE, 'utf8');
  return createHash('sha256')
    .update(`${SUPERSET_VERSION}\n${PSYCOPG2_VERSION}\n${constraints}`)
    .digest('hex')
    .slice(0, 16);
}

export const venvBin = (s: SupersetSettings, name: string) => resolve(s.venv, 'bin', name);

/**
 * Apache Superset in a virtual environment under the stack directory, installed from PyPI with
 * pip. Reused while its marker matches (version, driver, constraints); otherwise rebuilt from
 * scratch. Returns whether it installed (false = cached venv reused).
 */
export async function ensureSuperset(
  s: SupersetSettings,
  log: (l: string) => void,
  timeoutMs = 1_200_000,
): Promise<{ installed: boolean; seconds: number }> {
  const t0 = Date.now();
  const marker = resolve(s.venv, '.ride-cdc-installed');
  const want = await fingerprint();
  if (
    existsSync(marker) &&
    (await readFile(marker, 'utf8')).trim() === want &&
    existsSync(venvBin(s, 'superset'))
  )
    return { installed: false, seconds: (Date.now() - t0) / 1000 };

  await checkPython(s.python);
  log(`installing apache-superset ${SUPERSET_VERSION} into ${s.venv} (pip, a few minutes the first time)`);
  await rm(s.venv, { recursive: true, force: true });
  await mkdir(s.dir, { recursive: true });
  try {
    await run(s.python, ['-m', 'venv', s.venv], { timeout: 120_000 });
  } catch (err) {
    throw new Error(
      `${s.python} -m venv failed (on Debian/Ubuntu: apt-get install python3-venv): ${stderrOf(err)}`,
    );
  }
  const pip = venvBin(s, 'pip');
  try {
    await run(pip, ['install', '--quiet', '--upgrade', 'pip'], { timeout: timeoutMs });
    await run(
      pip,
      [
        'install',
        '--quiet',
        `apache-superset==${SUPERSET_VERSION}`,
        `psycopg2-binary==${PSYCOPG2_VERSION}`,
        '-c',
        CONSTRAINTS_FILE,
      ],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (err) {
    throw new Error(`pip install apache-superset==${SUPERSET_VERSION} failed: ${stderrOf(err)}`);
  }
  await writeFile(marker, `${want}\n`);
  const seconds = (Date.now() - t0) / 1000;
  log(`superset installed in ${seconds.toFixed(0)} s`);
  return { installed: true, seconds };
}

/** Superset 6.1 supports Python 3.10–3.12; anything else fails at install or at start, confusingly. */
async function checkPython(python: string): Promise<void> {
  let version: string;
  try {
    const { stdout } = await run(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
    version = stdout.trim();
  } catch (err) {
    throw new Error(`${python} not found (set SUPERSET_PYTHON to a Python 3.10–3.12): ${stderrOf(err)}`);
  }
  const [major, minor] = version.split('.').map(Number);
  if (major !== 3 || minor! < 10 || minor! > 12)
    throw new Error(
      `${python} is Python ${version}; Superset ${SUPERSET_VERSION} needs 3.10–3.12 (set SUPERSET_PYTHON)`,
    );
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: string; message: string };
  return (e.stderr || e.message).slice(-1500);
}
