import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Top frames by self time of a V8 .cpuprofile (`node --cpu-prof`), then busy time by owner:
 *   node --import tsx bench/compare/profile-top.ts <file.cpuprofile> [N]
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export type { Profile };

/** A profile file parsed once; both summaries below take either the file or the parsed profile. */
export const readProfile = (file: string | Profile): Profile =>
  typeof file === 'string' ? (JSON.parse(readFileSync(file, 'utf8')) as Profile) : file;

/** Samples that are not the program's own work. */
const NOT_BUSY = new Set(['(idle)', '(program)']);

export function topFrames(
  file: string | Profile,
  n = 15,
): { frame: string; selfMs: number; share: number }[] {
  const p = readProfile(file);
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of p.nodes) {
    const us = self.get(node.id) ?? 0;
    total += us;
    const f = node.callFrame;
    if (NOT_BUSY.has(f.functionName)) continue;
    const key =
      `${f.functionName || '(anonymous)'} ${f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
  }
  return [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: us / total }));
}

/** Who a script belongs to: an npm package, a folder of this repository's src/, or Node itself. */
function ownerOf(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(url);
  if (pkg) return pkg[1]!;
  const at = url.lastIndexOf('/src/');
  // Up to two folders below src/ (src/sink/elasticsearch), never the file name.
  if (at >= 0)
    return [
      'src',
      ...url
        .slice(at + 5)
        .split('/')
        .slice(0, -1)
        .slice(0, 2),
    ].join('/');
  if (url.startsWith('node:')) return 'node (runtime)';
  return basename(url);
}

/**
 * Busy time by owner (npm package, src/ folder, Node's runtime): a frame without a script (a
 * builtin such as JSON.stringify, a regexp) is charged to the nearest caller that has one, so
 * "pg" includes the escaping it calls. The garbage collector and unattributable time stay apart.
 */
export function timeByOwner(
  file: string | Profile,
  n = 12,
): { owner: string; selfMs: number; share: number }[] {
  const p = readProfile(file);
  const parent = new Map<number, Node>();
  const byId = new Map<number, Node>();
  for (const node of p.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node);
  }
  const owner = new Map<number, string>();
  const ownerOfNode = (node: Node): string => {
    const known = owner.get(node.id);
    if (known) return known;
    const f = node.callFrame;
    let o: string;
    if (f.functionName === '(garbage collector)') o = '(garbage collector)';
    else if (f.url) o = ownerOf(f.url);
    else {
      const up = parent.get(node.id);
      o = up && up.callFrame.functionName !== '(root)' ? ownerOfNode(up) : '(no script)';
    }
    owner.set(node.id, o);
    return o;
  };
  const by = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    if (NOT_BUSY.has(node.callFrame.functionName)) return;
    const us = p.timeDeltas[i] ?? 0;
    busy += us;
    const o = ownerOfNode(node);
    by.set(o, (by.get(o) ?? 0) + us);
  });
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([o, us]) => ({ owner: o, selfMs: us / 1000, share: us / busy }));
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const n = Number(process.argv[3] ?? 15);
  const profile = readProfile(process.argv[2]!);
  for (const f of topFrames(profile, n))
    console.log(
      `${(f.share * 100).toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.frame}`,
    );
  console.log('busy time by owner (builtins charged to their caller):');
  for (const o of timeByOwner(profile, n))
    console.log(
      `${(o.share * 100).toFixed(1).padStart(5)}%  ${o.selfMs.toFixed(0).padStart(7)} ms  ${o.owner}`,
    );
}
