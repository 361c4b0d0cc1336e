import { writeFileSync } from 'node:fs';
import type { LatencyResult } from '../stack-bench.js';
import type { PeerResult } from './peer-result.js';

export interface CompareReport {
  at: string;
  machine: { cpus: number; model: string; memGiB: number };
  command: string;
  events: number;
  rows: PeerResult[];
  ratios: Record<string, number | null>;
  decodeProjectPerCore: number | null;
  latency: LatencyResult[];
  /** Top frames by self time of the one-worker drains' V8 CPU profiles (--cpu-prof-dir). */
  profiles: {
    run: string;
    file: string;
    frames: { frame: string; selfMs: number; share: number }[];
    /** Busy time by npm package / src folder, builtins charged to their caller (profile-top.ts). */
    owners?: { owner: string; selfMs: number; share: number }[];
  }[];
  /** Peers that failed (and are therefore missing from `rows`). */
  failures: string[];
}

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (b: number | null) => (b === null ? '–' : `${fmt(b / 2 ** 20)} MB`);
const yn = (v: boolean | null) => (v === null ? '–' : v ? 'yes' : 'NO');

/** Ratios of ride-cdc (one worker) to every peer, the combined ceiling and the baseline commit. */
export function ratios(rows: readonly PeerResult[]): Record<string, number | null> {
  const find = (p: (r: PeerResult) => boolean) => rows.find(p) ?? null;
  const one = find(
    (r) =>
      r.kind === 'ride-cdc' &&
      r.extra?.workers === 1 &&
      !r.extra?.baseline &&
      !r.extra?.bookingsOnly &&
      r.extra?.groupCommit !== false,
  );
  const sameTopic = find((r) => r.kind === 'ride-cdc' && !!r.extra?.bookingsOnly);
  const flink = find((r) => r.kind === 'flink');
  const out: Record<string, number | null> = {};
  if (sameTopic && flink) {
    // Like for like first: the same topic, the KPI subset checked on both.
    out['ride-cdc (1 worker) / Flink SQL, both on the bookings topic'] =
      sameTopic.eventsPerSecond / flink.eventsPerSecond;
    if (sameTopic.peakRssBytes && flink.peakRssBytes)
      out['peak RSS: ride-cdc (1 worker, bookings topic) / Flink'] =
        sameTopic.peakRssBytes / flink.peakRssBytes;
  }
  if (!one) return out;
  for (const r of rows) {
    // Flink reads the bookings topic only: its ratio is the like-for-like one above.
    if (r === one || r === sameTopic || (r === flink && sameTopic)) continue;
    out[`ride-cdc (1 worker) / ${r.name}`] = one.eventsPerSecond / r.eventsPerSecond;
  }
  if (flink?.peakRssBytes && one.peakRssBytes)
    out['peak RSS: ride-cdc (1 worker, whole backlog) / Flink'] = one.peakRssBytes / flink.peakRssBytes;
  return out;
}

export function markdownTable(rows: readonly PeerResult[]): string {
  const head =
    '| run | events | seconds | events/s | CPU-s per 1M events | peak RSS | equal to truth |\n|---|---:|---:|---:|---:|---:|---|';
  const body = rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.events)} | ${fmt(r.seconds, 1)} | ${fmt(r.eventsPerSecond)} | ${fmt(r.cpuSecondsPerMillion, 1)} | ${mb(r.peakRssBytes)} | ${yn(r.equalToTruth)} |`,
  );
  return [head, ...body].join('\n');
}

export function renderMarkdown(rep: CompareReport): string {
  const notes = rep.rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
  const lat = rep.latency.map(
    (l) =>
      `| ${fmt(l.targetRate)} | ${fmt(l.achievedRate)} | ${fmt(l.p50 * 1000)} | ${fmt(l.p95 * 1000)} | ${fmt(l.p99 * 1000)} |`,
  );
  return [
    `# Compare bench ${rep.at}`,
    '',
    `Machine: ${rep.machine.cpus} × ${rep.machine.model}, ${fmt(rep.machine.memGiB)} GiB; the whole stack co-located.`,
    `Command: \`${rep.command}\`; backlog ${fmt(rep.events)} change events.`,
    '',
    markdownTable(rep.rows),
    '',
    ...notes,
    ...rep.failures.map((f) => `- FAILED ${f}`),
    '',
    '## Ratios',
    '',
    ...Object.entries(rep.ratios).map(([k, v]) => `- ${k}: **${fmt(v, 2)}**`),
    rep.decodeProjectPerCore === null
      ? ''
      : `- decode + project on the bench mix: ${fmt(rep.decodeProjectPerCore)} events/s per core`,
    '',
    '## Latency (source commit → both sinks) vs offered rate',
    '',
    '| offered events/s | achieved | p50 ms | p95 ms | p99 ms |\n|---:|---:|---:|---:|---:|',
    ...lat,
    '',
    ...rep.profiles.flatMap((p) => [
      `## Top CPU frames (self time): ${p.run}`,
      '',
      '| share | self ms | frame |\n|---:|---:|---|',
      ...p.frames.map((f) => `| ${fmt(f.share * 100, 1)}% | ${fmt(f.selfMs)} | \`${f.frame}\` |`),
      '',
      ...(p.owners
        ? [`Busy time by owner (builtins charged to their caller): ${ownersLine(p.owners, 10)}`, '']
        : []),
    ]),
  ].join('\n');
}

const ownersLine = (owners: NonNullable<CompareReport['profiles'][number]['owners']>, n: number) =>
  owners
    .slice(0, n)
    .map((o) => `${o.owner} ${fmt(o.share * 100, 1)}%`)
    .join(', ');

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two panels drawn by hand: throughput per run (bars) and latency quantiles vs offered rate (lines). */
export function renderSvg(rep: CompareReport): string {
  const barH = 22;
  // Room for the longest run name (about 6.6 px a character at 12 px sans-serif).
  const left = Math.max(360, Math.ceil(16 + 6.6 * Math.max(0, ...rep.rows.map((r) => r.name.length))));
  const W = left + 540;
  const top = 40;
  const maxRate = Math.max(1, ...rep.rows.map((r) => r.eventsPerSecond));
  const barsH = top + rep.rows.length * (barH + 6) + 30;
  const colour = {
    ceiling: '#9aa5b1',
    'ride-cdc': '#2b8a3e',
    flink: '#c2255c',
    'debezium-jdbc': '#1971c2',
  } as const;
  const out: string[] = [];
  const latH = 300;
  const H = barsH + latH + 60;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(
    `<text x="10" y="22" font-size="15" font-weight="bold">Throughput draining ${fmt(rep.events)} events (events/s)</text>`,
  );
  rep.rows.forEach((r, i) => {
    const y = top + i * (barH + 6);
    const w = ((W - left - 90) * r.eventsPerSecond) / maxRate;
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(r.name)}</text>`);
    out.push(
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colour[r.kind]}"/>`,
    );
    out.push(`<text x="${(left + w + 6).toFixed(1)}" y="${y + 15}">${fmt(r.eventsPerSecond)}</text>`);
  });
  // Latency panel
  const y0 = barsH + 30;
  const px = 70;
  const pw = W - px - 40;
  const ph = latH - 50;
  out.push(
    `<text x="10" y="${y0 - 8}" font-size="15" font-weight="bold">Latency source commit → both sinks vs offered rate</text>`,
  );
  const lat = [...rep.latency].sort((a, b) => a.targetRate - b.targetRate);
  const maxX = Math.max(1, ...lat.map((l) => l.targetRate)) * 1.1;
  const maxY = Math.max(0.5, ...lat.map((l) => l.p99)) * 1.15;
  const X = (v: number) => px + (pw * v) / maxX;
  const Y = (v: number) => y0 + ph - (ph * v) / maxY;
  out.push(`<line x1="${px}" y1="${y0 + ph}" x2="${px + pw}" y2="${y0 + ph}" stroke="black"/>`);
  out.push(`<line x1="${px}" y1="${y0}" x2="${px}" y2="${y0 + ph}" stroke="black"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (maxY * i) / 4;
    out.push(`<text x="${px - 6}" y="${Y(v) + 4}" text-anchor="end">${(v * 1000).toFixed(0)} ms</text>`);
    out.push(`<line x1="${px}" y1="${Y(v)}" x2="${px + pw}" y2="${Y(v)}" stroke="#eee"/>`);
  }
  for (const l of lat)
    out.push(
      `<text x="${X(l.targetRate)}" y="${y0 + ph + 16}" text-anchor="middle">${fmt(l.targetRate)}/s</text>`,
    );
  const series: [keyof LatencyResult, string][] = [
    ['p50', '#2b8a3e'],
    ['p95', '#e67700'],
    ['p99', '#c92a2a'],
  ];
  series.forEach(([q, c], i) => {
    const pts = lat.map((l) => `${X(l.targetRate).toFixed(1)},${Y(l[q] as number).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2"/>`);
    for (const l of lat)
      out.push(`<circle cx="${X(l.targetRate)}" cy="${Y(l[q] as number)}" r="3" fill="${c}"/>`);
    out.push(`<text x="${px + pw - 60}" y="${y0 + 14 + i * 16}" fill="${c}">${q}</text>`);
  });
  out.push(
    `<text x="${px + pw / 2}" y="${y0 + ph + 36}" text-anchor="middle">offered rate (events/s)</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export function printReport(rep: CompareReport): void {
  console.log(markdownTable(rep.rows));
  for (const r of rep.rows) if (r.note) console.log(`  ${r.name}: ${r.note}`);
  for (const f of rep.failures) console.log(`  FAILED ${f}`);
  console.log('ratios:');
  for (const [k, v] of Object.entries(rep.ratios)) console.log(`  ${k}: ${fmt(v, 2)}`);
  if (rep.decodeProjectPerCore !== null)
    console.log(`decode + project on the bench mix: ${fmt(rep.decodeProjectPerCore)} events/s per core`);
  for (const l of rep.latency)
    console.log(
      `latency at ${fmt(l.targetRate)}/s (${fmt(l.achievedRate)} achieved): p50 ${fmt(l.p50 * 1000)} ms, p95 ${fmt(l.p95 * 1000)} ms, p99 ${fmt(l.p99 * 1000)} ms`,
    );
  for (const p of rep.profiles) {
    console.log(`top CPU frames (self time), ${p.run}:`);
    for (const f of p.frames.slice(0, 10))
      console.log(`  ${fmt(f.share * 100, 1).padStart(5)}%  ${fmt(f.selfMs).padStart(7)} ms  ${f.frame}`);
    if (p.owners) console.log(`  by owner: ${ownersLine(p.owners, 8)}`);
  }
}

export function writeReport(rep: CompareReport, base: string): string[] {
  const files = [`${base}.json`, `${base}.md`, `${base}.svg`];
  writeFileSync(files[0]!, `${JSON.stringify(rep, null, 2)}\n`);
  writeFileSync(files[1]!, renderMarkdown(rep));
  writeFileSync(files[2]!, renderSvg(rep));
  return files;
}
