/** Pure parsers for the toolchain versions `ride-cdc preflight` checks. */

/** `java -version` output (stderr) → major version: "17.0.13" → 17, legacy "1.8.0_392" → 8. */
export function javaMajor(output: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

/** `mvn -v` output → "3.8.7". */
export function mavenVersion(output: string): string | undefined {
  return /Apache Maven (\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

/** Numeric dotted comparison: -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
