/**
 * `.ci/programs.tsv` is the one list of external programs that the code spawns. A new machine has
 * only what `.ci/run` installs from it, so a program spawned but not listed passes CI on a machine
 * where someone installed it by hand and fails everywhere else. This test keeps the list, the
 * README's prerequisites table and `.ci/run` true to the code.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const read = (p: string) => readFileSync(resolve(ROOT, p), 'utf8');

interface ProgramRow {
  program: string;
  pkg: string;
  probe: string;
  why: string;
}

function programList(): ProgramRow[] {
  const [header, ...rows] = read('.ci/programs.tsv').trimEnd().split('\n');
  expect(header).toBe('program\tpackage\tprobe\twhy');
  return rows.map((line) => {
    const [program = '', pkg = '', probe = '', why = ''] = line.split('\t');
    return { program, pkg, probe, why };
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(resolve(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures' || name.startsWith('.')) return [];
    if (statSync(resolve(ROOT, rel)).isDirectory()) return sourceFiles(rel);
    return /\.(m?ts|m?js)$/.test(name) ? [rel] : [];
  });
}

/**
 * Programs named by a literal in a spawn-like call (`spawn('mvn'`, `execFileSync('id'`,
 * `which('promtool')`, a start spec's `command: '/usr/bin/prometheus'`); absolute paths count by
 * their base name. Programs started through a variable (the JDK's java, process.execPath) are not
 * seen here and are listed by hand.
 */
function spawnedPrograms(source: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /\b(?:spawn|spawnSync|execFile|execFileSync|which|commandExists)\(\s*['"`]([^'"`$\s]+)['"`]/g,
    /\bcommand:\s*['"`]([^'"`$\s]+)['"`]/g,
    /\bexecutablePath:\s*['"`]([^'"`$\s]+)['"`]/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.add(basename(m[1]!));
  return [...found];
}

describe('external programs', () => {
  const rows = programList();
  const listed = new Set(rows.map((r) => r.program));

  it('the scanner sees spawn-like calls, paths and start specs', () => {
    const sample = `spawn('mvn', a); execFileSync("id", ['-u']); which('promtool');
      const spec = { command: '/usr/bin/prometheus' }; spawn(process.execPath, x);`;
    expect(spawnedPrograms(sample).sort()).toEqual(['id', 'mvn', 'prometheus', 'promtool']);
  });

  it('every program that src/, tests/ or bench/ spawns is in .ci/programs.tsv', () => {
    const spawned = new Map<string, string>();
    const self = 'tests/unit/external-programs.test.ts'; // its sample above is not a spawn
    for (const file of ['src', 'tests', 'bench'].flatMap(sourceFiles).filter((f) => f !== self)) {
      for (const p of spawnedPrograms(read(file))) if (!spawned.has(p)) spawned.set(p, file);
    }
    expect(spawned.size).toBeGreaterThan(3);
    const unlisted = [...spawned].filter(([p]) => !listed.has(p)).map(([p, f]) => `${p} (${f})`);
    expect(unlisted, 'add a row to .ci/programs.tsv and the README prerequisites table').toEqual([]);
  });

  it('every row names a package, a probe and a reason', () => {
    for (const r of rows) {
      expect(r.program, JSON.stringify(r)).toMatch(/^[\w.+-]+$/);
      expect(r.pkg, r.program).toMatch(/^[a-z0-9][a-z0-9.+-]+$/);
      expect(r.probe, r.program).not.toBe('');
      expect(r.why, r.program).not.toBe('');
    }
    expect(listed.size).toBe(rows.length);
  });

  it("the README's prerequisites table lists exactly the same programs and packages", () => {
    const readme = read('README.md');
    const table = new Map<string, string>();
    for (const m of readme.matchAll(/^\| `([^`]+)` +\| `([^`]+)` +\| [^|]+ \|$/gm)) table.set(m[1]!, m[2]!);
    expect(Object.fromEntries(table)).toEqual(Object.fromEntries(rows.map((r) => [r.program, r.pkg])));
  });

  it('.ci/run installs from the list and stops with one line naming what is still missing', () => {
    const ci = read('.ci/run');
    expect(ci).toContain('.ci/programs.tsv');
    expect(ci).toMatch(/apt-get install[^\n]*\\\n\s*\$\(printf/);
    expect(ci).toMatch(/still missing after the install step/);
    expect(ci).toMatch(/exit 1/);
    // The README's own test command, its output kept for the failure summary printed last.
    expect(ci).toMatch(/^npm test 2>&1 \| tee "\$test_log"$/m);
    expect(ci).toMatch(/set -euo pipefail/);
  });
});
