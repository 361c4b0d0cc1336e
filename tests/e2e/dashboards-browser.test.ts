import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/db/pg.js';
import { SupersetApi } from '../../src/superset/api.js';
import { dashboardSpecs } from '../../src/superset/bundle.js';
import { openBrowser, type Browser } from './support/browser.js';
import { runGenerator, seedTiny } from './support/generator.js';
import { diffMart } from '../../src/verify/mart-truth.js';
import { Scenario, type WorkerProcess } from './support/scenario.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');
const DOCS = join(REPO, 'docs/screenshots');
const SUPERSET = 'http://127.0.0.1:8088';
const ADMIN = { user: 'admin', password: 'ride-cdc-e2e-admin' };
/**
 * `superset up` on a new machine installs Superset first (pip from PyPI into <stack>/superset/venv,
 * then db upgrade + init): 109 s measured cold on the 2-core box, ~8 min under load 20
 * (docs/superset.md). The bound leaves room for a slow mirror; the test adds 10 minutes for the rest.
 */
const SUPERSET_UP_MS = 1_500_000;
/** The only hosts past loopback a page may ask for, answered inside the browser (support/browser.ts). */
const OFFLINE_ALLOWED = /(^|\.)fonts\.(googleapis|gstatic)\.com$|(^|\.)gateway\.scarf\.sh$/;

/**
 * The dashboards people open, in a real headless Chromium: the worker's status page (loads, equals
 * the mart, moves while the generator streams) and Superset over the scenario's reporting_db
 * (every chart of the bundle renders without error; a headline equals the mart). Screenshots go
 * to docs/screenshots/. Requests past loopback (Superset's Google Fonts and telemetry pixel) are
 * answered inside the browser and must be the only ones.
 */
describe('dashboards in a browser', () => {
  const s = new Scenario();
  let reporting: pg.Client;
  let worker: WorkerProcess;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(DOCS, { recursive: true });
    await s.start({
      beforeConnector: () => seedTiny(s.generatorEnv(), '7'),
    });
    reporting = createClient(s.reporting);
    await reporting.connect();
    worker = await s.startWorker();
    browser = await openBrowser();
  }, 300_000);

  afterAll(async () => {
    // Superset is not part of the shared stack: stop the server this test started (the venv stays).
    await run(process.execPath, [join(REPO, 'bin/ride-cdc.js'), 'superset', 'down']).catch(() => undefined);
    await browser?.close();
    await reporting?.end();
    await s.stop();
  });

  it('the status page loads, updates while the generator streams, and equals the mart', async () => {
    const page = browser.page;
    const gen = runGenerator(s.generatorEnv(), [
      '--mode',
      'stream',
      '--volume',
      'tiny',
      '--seconds',
      '40',
      '--seed',
      '8',
    ]);
    await page.goto(`http://127.0.0.1:${worker.port}/`);
    await page.waitForSelector('[data-kpi="bookings_requested"] .value[data-value]', { timeout: 30_000 });
    const first = {
      at: await page.getAttribute('body', 'data-updated'),
      map: await page.getAttribute('#map', 'data-pickups'),
    };
    const requestedBefore = await page.getAttribute('[data-kpi="bookings_requested"] .value', 'data-value');
    await sleep(15_000);
    const later = await page.getAttribute('body', 'data-updated');
    expect(later).not.toBe(first.at);
    expect(Number(await page.getAttribute('#throughput', 'data-value'))).toBeGreaterThan(0);
    await page.screenshot({ path: join(DOCS, 'status-page.png'), fullPage: true });
    expect((await gen.done).code).toBe(0);
    expect(
      (await s.converge(async () => (await diffMart(s.sourceDb, reporting)).diffs, 240_000)).slice(0, 5),
    ).toEqual([]);
    const requestedAfter = await page.getAttribute('[data-kpi="bookings_requested"] .value', 'data-value');
    expect(Number(requestedAfter)).toBeGreaterThan(Number(requestedBefore));

    // Numbers on the page = the mart (read back to back; retried across a minute boundary of the window).
    let diffs: string[] = [];
    for (let i = 0; i < 5; i++) {
      await sleep(2500); // one poll of the page
      const shown = new Map<string, string | null>();
      for (const el of await page.locator('[data-kpi]').all())
        shown.set(
          (await el.getAttribute('data-kpi'))!,
          await el.locator('.value').getAttribute('data-value'),
        );
      const mart = await reporting.query<{ metric_name: string; metric_value: string | null }>(
        `SELECT metric_name, metric_value::text FROM mart.latest_metric_snapshot WHERE dimension = 'all'`,
      );
      const gauges = await reporting.query<{ metric_name: string; metric_value: string }>(
        `SELECT metric_name, metric_value::text FROM mart.metric_gauge WHERE dimension = 'all'`,
      );
      const want = new Map(mart.rows.map((r) => [r.metric_name, r.metric_value]));
      diffs = [];
      for (const [k, v] of shown)
        if (Number(v || 'NaN') !== Number(want.get(k) ?? 'NaN') && !(v === '' && !want.has(k)))
          diffs.push(`${k}: page ${v} mart ${want.get(k)}`);
      const g = new Map(gauges.rows.map((r) => [r.metric_name, Number(r.metric_value)]));
      const online = Number(await page.getAttribute('#drivers-online', 'data-value'));
      const busy = Number(await page.getAttribute('#drivers-busy', 'data-value'));
      if (online !== (g.get('drivers_online') ?? 0))
        diffs.push(`drivers_online page ${online} mart ${g.get('drivers_online')}`);
      if (busy !== (g.get('drivers_busy') ?? 0))
        diffs.push(`drivers_busy page ${busy} mart ${g.get('drivers_busy')}`);
      if (diffs.length === 0) break;
    }
    expect(diffs).toEqual([]);
    expect(shownText(await page.textContent('[data-kpi="bookings_requested"] .value'))).toBe(
      Number(requestedAfter),
    );
    expect(Number(await page.getAttribute('#map', 'data-positions'))).toBeGreaterThan(0);
    await page.screenshot({ path: join(DOCS, 'status-page.png'), fullPage: true });
    expect(browser.errors).toEqual([]);
    expect(browser.external).toEqual([]);
  });

  it(
    'Superset: every chart of the bundle renders without error, and a headline equals the mart',
    async () => {
      const env = {
        ...process.env,
        REPORTING_PGHOST: s.reporting.host,
        REPORTING_PGPORT: String(s.reporting.port),
        REPORTING_PGDB: s.reporting.database,
        REPORTING_PGUSER: s.reporting.user,
        REPORTING_PGPASSWORD: s.reporting.password,
        SUPERSET_ADMIN_USERNAME: ADMIN.user,
        SUPERSET_ADMIN_PASSWORD: ADMIN.password,
      };
      const t0 = Date.now();
      const up = await run(process.execPath, [join(REPO, 'bin/ride-cdc.js'), 'superset', 'up'], {
        env,
        timeout: SUPERSET_UP_MS,
      });
      process.stderr.write(
        `[superset e2e] superset up in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${up.stdout.trim().split('\n').at(-1)}\n`,
      );
      // The bundle is there once: every chart by name, every dashboard by slug, exactly once each.
      const first = await supersetObjects();
      const bundleCharts = dashboardSpecs().flatMap((d) => d.rows.flat().map((c) => c.name));
      for (const name of bundleCharts)
        expect(
          first.charts.filter((n) => n === name),
          name,
        ).toHaveLength(1);
      for (const d of dashboardSpecs())
        expect(
          first.dashboards.filter((x) => x === d.slug),
          d.slug,
        ).toHaveLength(1);
      // A second import (by uuid, with overwrite) changes nothing: the same charts, no copies.
      await run(process.execPath, [join(REPO, 'bin/ride-cdc.js'), 'superset', 'up'], {
        env,
        timeout: 600_000,
      });
      const again = await supersetObjects();
      expect(again.charts.toSorted()).toEqual(first.charts.toSorted());
      expect(again.dashboards.toSorted()).toEqual(first.dashboards.toSorted());
      expect(again.datasets).toBe(first.datasets);

      const page = browser.page;
      browser.errors.length = 0;
      // Log in as a person does. The login page is a React form: fill it once it has settled, and
      // wait for the welcome page itself (a failed login stays on /login/?next=…/welcome/, which a
      // bare /welcome/ pattern would take for success).
      // 'networkidle' is no sign of that (it timed out once with the form long on screen): wait for
      // the field, and type until both fields still hold what was typed half a second later.
      await page.goto(`${SUPERSET}/login/`, { timeout: 120_000 });
      await page.locator('#username').waitFor({ state: 'visible', timeout: 120_000 });
      let typed = false;
      for (let i = 0; i < 20 && !typed; i++) {
        await page.fill('#username', ADMIN.user);
        await page.fill('#password', ADMIN.password);
        await sleep(500);
        typed =
          (await page.inputValue('#username')) === ADMIN.user &&
          (await page.inputValue('#password')) === ADMIN.password;
      }
      expect(typed, 'the login form kept what was typed').toBe(true);
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname.startsWith('/superset/welcome'), { timeout: 120_000 });
      expect(
        await page.evaluate("fetch('/api/v1/me/').then((r) => r.status)"),
        'logged in (GET /api/v1/me/)',
      ).toBe(200);

      for (const d of dashboardSpecs()) {
        await page.goto(`${SUPERSET}/superset/dashboard/${d.slug}/`);
        const n = d.rows.flat().length;
        // Every chart holder has drawn something (a chart, a number, a table, an empty state or an error).
        const drawn = await waitDrawn(page, n, 240_000);
        const pending = [...browser.inflight].join(', ');
        expect(
          drawn,
          `${d.title}: not drawn in 240 s; in flight: ${pending}; ${browser.errors.join(' | ')}`,
        ).toEqual({
          holders: n,
          loading: 0,
          undrawn: [],
        });
        const shot = join(DOCS, `superset-${d.slug.replace('ride-cdc-', '')}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        // Each failing chart with its message (the screenshot shows the rest).
        const failed = await page
          .locator('[data-test-chart-id]')
          .filter({ has: page.locator('[data-test="chart-error"], .alert-danger, .ant-alert-error') })
          .allInnerTexts();
        expect(
          failed.map((t) => t.replace(/\s+/g, ' ').slice(0, 300)),
          `${d.title}: charts with an error`,
        ).toEqual([]);
        if (d.slug === 'ride-cdc-operation') {
          const tile = page.locator('[data-test-chart-id]').filter({ hasText: 'bookings_completed: total' });
          const shown = Number((await tile.locator('.header-line').textContent())!.replace(/[^0-9.]/g, ''));
          const mart = await reporting.query<{ v: string }>(
            `SELECT sum(numerator)::text AS v FROM mart.fact_metric_bucket
           WHERE metric_name = 'bookings_completed' AND dimension = 'all' AND bucket_granularity = 'MINUTE'`,
          );
          expect(shown).toBe(Number(mart.rows[0]!.v));
        }
      }
      expect(browser.errors).toEqual([]);
      // Loopback only: the browser answered Superset's Google Fonts and telemetry requests itself.
      expect(browser.external.filter((u) => !OFFLINE_ALLOWED.test(new URL(u).hostname))).toEqual([]);
    },
    SUPERSET_UP_MS + 600_000,
  );
});

interface DrawState {
  holders: number;
  loading: number;
  /** Titles of the chart holders with nothing drawn in them yet. */
  undrawn: string[];
}

/** Polls the dashboard until its n chart holders have all drawn; the last state either way. */
async function waitDrawn(page: Page, n: number, timeoutMs: number): Promise<DrawState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await page.evaluate(`(() => {
      const h = [...document.querySelectorAll('[data-test-chart-id]')];
      const drew = (x) => x.querySelector('svg, canvas, .header-line, table, .ant-empty, [data-test="chart-error"], .alert');
      return {
        holders: h.length,
        loading: document.querySelectorAll('.loading').length,
        undrawn: h.filter((x) => !drew(x)).map((x) => x.innerText.split('\\n')[0] || x.getAttribute('data-test-chart-id')),
      };
    })()`)) as DrawState;
    if ((state.holders === n && state.loading === 0 && state.undrawn.length === 0) || Date.now() > deadline) {
      if (Date.now() > deadline)
        await page.screenshot({
          path: join(tmpdir(), `ride-cdc-superset-undrawn-${Date.now()}.png`),
          fullPage: true,
        });
      return state;
    }
    await sleep(1000);
  }
}

/** Chart names, dashboard slugs and the dataset count in Superset, through its REST API. */
async function supersetObjects(): Promise<{ charts: string[]; dashboards: string[]; datasets: number }> {
  const api = new SupersetApi(SUPERSET);
  await api.login(ADMIN.user, ADMIN.password);
  return {
    charts: (await api.list<{ slice_name: string }>('chart', ['slice_name'])).map((c) => c.slice_name),
    dashboards: (await api.list<{ slug: string }>('dashboard', ['slug'])).map((d) => d.slug),
    datasets: (await api.list<{ id: number }>('dataset', ['id'])).length,
  };
}

function shownText(t: string | null): number {
  return Number((t ?? '').replace(/,/g, ''));
}
