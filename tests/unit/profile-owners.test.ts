/**
 * bench/compare/profile-top.ts timeByOwner: busy time grouped by npm package or src/ folder, a
 * builtin (no script URL) charged to its caller, idle time left out. A made-up profile, no timing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { timeByOwner } from '../../bench/compare/profile-top.js';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber: 0 },
  children,
});

describe('timeByOwner', () => {
  it('charges builtins to their caller and groups by package and src folder', () => {
    const profile = {
      nodes: [
        frame(1, '(root)', '', [2, 5, 6, 7, 8]),
        frame(2, 'serializeOp', 'file:///repo/src/sink/elasticsearch/bulk.ts', [3]),
        frame(3, 'stringify', ''), // JSON.stringify: no script of its own
        frame(5, 'prepareValue', 'file:///repo/node_modules/pg/lib/utils.js'),
        frame(6, 'send', 'file:///repo/node_modules/@elastic/transport/lib/Transport.js'),
        frame(7, '(garbage collector)', ''),
        frame(8, '(idle)', ''),
      ],
      samples: [2, 3, 3, 5, 6, 7, 8, 8, 8],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
    };
    const file = join(mkdtempSync(join(tmpdir(), 'prof-')), 'p.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    const owners = Object.fromEntries(timeByOwner(file).map((o) => [o.owner, o.selfMs]));
    expect(owners).toEqual({
      'src/sink/elasticsearch': 3,
      pg: 1,
      '@elastic/transport': 1,
      '(garbage collector)': 1,
    });
    expect(timeByOwner(file)[0]).toMatchObject({ owner: 'src/sink/elasticsearch', share: 0.5 });
  });
});
