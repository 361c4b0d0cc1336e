import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (apt-get install chromium; .ci/programs.tsv), driven by playwright-core. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught page errors and failed requests seen so far. */
  errors: string[];
  /** Requests to anything but loopback: answered locally with an empty 204, never sent. */
  external: string[];
  /** Requests sent and not yet answered (finished or failed), for a test's diagnostics. */
  inflight: Set<string>;
  close(): Promise<void>;
}

/** A real headless Chromium with a fresh profile (its own --user-data-dir, removed on close). */
export async function openBrowser(viewport = { width: 1440, height: 1000 }): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'ride-cdc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const external: string[] = [];
  const inflight = new Set<string>();
  // The machine (and CI) is offline and tests never reach past loopback: Superset's pages ask for
  // Google Fonts and a telemetry pixel (apachesuperset.gateway.scarf.sh, unconditional in 6.1.0's
  // menu); they are recorded and answered here instead of failing as console errors.
  await context.route(
    (url) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname),
    async (route) => {
      external.push(route.request().url());
      await route.fulfill({ status: 204, body: '' });
    },
  );
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} @ ${m.location().url}`);
  });
  context.on('request', (r) => inflight.add(`${r.method()} ${r.url()}`));
  context.on('requestfinished', (r) => inflight.delete(`${r.method()} ${r.url()}`));
  context.on('requestfailed', (r) => inflight.delete(`${r.method()} ${r.url()}`));
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A navigation away from a page cancels its pending requests: not a failure.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED')
      errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return {
    context,
    page,
    errors,
    external,
    inflight,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
