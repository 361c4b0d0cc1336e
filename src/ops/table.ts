/** Plain-text table: columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One line of an ops check: what was checked, whether it passed, and what was seen. */
export interface CheckRow {
  component: string;
  /** ok: healthy; warn: informational, never fails the command; fail: the command exits non-zero. */
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

export function checkTable(rows: CheckRow[]): string {
  return table([
    ['COMPONENT', 'STATUS', 'DETAIL'],
    ...rows.map((r) => [r.component, r.status.toUpperCase(), r.detail]),
  ]);
}

/** Exit code of a checks command: 1 when any row failed. */
export function checksExitCode(rows: CheckRow[]): number {
  return rows.some((r) => r.status === 'fail') ? 1 : 0;
}
