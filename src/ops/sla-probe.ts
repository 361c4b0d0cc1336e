import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client as EsClient } from '@elastic/elasticsearch';
import { createClient, type PgSettings } from '../db/pg.js';

/**
 * Active end-to-end probes for `ride-cdc sla`. A probe driver of its own is inserted (offline,
 * so no status KPI moves), updated `probes` times with a unique name and updated_at, and each
 * update is timed from its commit until Elasticsearch's latest driver document carries the name
 * (a realtime GET: what the sink acknowledged) and mart.driver_state carries the updated_at.
 * Nobody else writes that row, so seeing the marker means exactly this change arrived. The
 * driver is deleted afterwards, which removes it from both sinks again.
 */
export interface ProbeTargets {
  source: PgSettings;
  reporting: PgSettings;
  es: EsClient;
  /** ES_INDEX_PREFIX of the worker being measured. */
  indexPrefix: string;
}

export interface ProbeOptions {
  probes: number;
  intervalMs: number;
  timeoutMs: number;
  log?: (line: string) => void;
}

export interface ProbeSamples {
  elasticsearch: number[];
  mart: number[];
  /** Both sinks: the slower of the two per probe. */
  both: number[];
}

const POLL_MS = 20;

export async function runProbes(t: ProbeTargets, o: ProbeOptions): Promise<ProbeSamples> {
  const src = createClient(t.source);
  const mart = createClient(t.reporting);
  await src.connect();
  await mart.connect();
  const index = `${t.indexPrefix}driver_locations`;
  const run = `${process.pid}-${Date.now()}`;
  let driverId: string | undefined;
  const out: ProbeSamples = { elasticsearch: [], mart: [], both: [] };
  try {
    const ins = await src.query<{ id: string }>(
      `INSERT INTO drivers (full_name, phone, vehicle_type, plate_number, status, home_zone_id)
       VALUES ($1, 'sla-probe', 'car', 'SLA-PROBE', 'offline', (SELECT min(id) FROM zones)) RETURNING id`,
      [`ride-cdc sla probe ${run}`],
    );
    driverId = ins.rows[0]!.id;
    for (let i = 1; i <= o.probes; i++) {
      const marker = `ride-cdc sla probe ${run} #${i}`;
      const upd = await src.query<{ ts: string }>(
        `UPDATE drivers SET full_name = $1, updated_at = clock_timestamp() WHERE id = $2 RETURNING updated_at::text AS ts`,
        [marker, driverId],
      );
      const t0 = performance.now();
      const ts = upd.rows[0]!.ts;
      const deadline = t0 + o.timeoutMs;
      let esMs = Number.POSITIVE_INFINITY;
      let martMs = Number.POSITIVE_INFINITY;
      while (performance.now() < deadline && (!Number.isFinite(esMs) || !Number.isFinite(martMs))) {
        const [esSeen, martSeen] = await Promise.all([
          Number.isFinite(esMs) ? true : esHas(t.es, index, driverId, marker),
          Number.isFinite(martMs) ? true : martHas(mart, driverId, ts),
        ]);
        const now = performance.now() - t0;
        if (esSeen && !Number.isFinite(esMs)) esMs = now;
        if (martSeen && !Number.isFinite(martMs)) martMs = now;
        if (!esSeen || !martSeen) await sleep(POLL_MS);
      }
      out.elasticsearch.push(esMs);
      out.mart.push(martMs);
      out.both.push(Math.max(esMs, martMs));
      o.log?.(`probe ${i}/${o.probes}: elasticsearch ${fmt(esMs)}, mart ${fmt(martMs)}`);
      if (i < o.probes) await sleep(o.intervalMs);
    }
    return out;
  } finally {
    if (driverId !== undefined)
      await src.query('DELETE FROM drivers WHERE id = $1', [driverId]).catch(() => undefined);
    await src.end();
    await mart.end();
  }
}

function fmt(ms: number): string {
  return Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'not seen';
}

async function esHas(es: EsClient, index: string, id: string, marker: string): Promise<boolean> {
  try {
    const doc = await es.get<{ full_name?: string }>({ index, id });
    return doc._source?.full_name === marker;
  } catch {
    return false;
  }
}

async function martHas(db: import('pg').Client, id: string, ts: string): Promise<boolean> {
  const r = await db.query<{ ok: boolean }>(
    'SELECT source_updated_at >= $2::timestamptz AS ok FROM mart.driver_state WHERE driver_id = $1',
    [id, ts],
  );
  return r.rows[0]?.ok === true;
}
