// `npm run screenshots`: starts the whole product (`runwarden start` from dist/, on a throwaway
// embedded PostgreSQL seeded with the demo), then renders every surface into docs/screenshots/.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Browser,
  type BrowserContextOptions,
  chromium,
  type Locator,
  type Page,
  type Request,
} from 'playwright-core';
import { freePort } from '../src/db/embedded/recovery.js';

const OUT = path.resolve('docs/screenshots');
const PASSWORD = 'screenshots-demo';

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'runwarden-shots-'));
  const port = await freePort();
  const base = `http://localhost:${port}`;
  step(`starting runwarden on ${base} (data in ${dataDir})…`);
  const server = spawn(process.execPath, ['dist/cli/main.js', 'start'], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      PORT: String(port),
      RUNWARDEN_DATA_DIR: dataDir,
      RUNWARDEN_PG_PORT: String(await freePort()),
      RUNWARDEN_DEMO_PASSWORD: PASSWORD,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitForHealth(base, server);
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const desktop = { viewport: { width: 1400, height: 900 } };
      const page = await newPage(browser, desktop);
      await shoot(page, base, 'login', '/login');
      await login(page, base, 'owner@demo.test');
      const reconciled = await firstRunId(page, base, 'reconciled');
      await shoot(page, base, 'workspace-overview', '/admin/w/contoso', true);
      await shoot(page, base, 'tenant-dashboard', '/admin/t/contoso-prod', true);
      await shoot(page, base, 'operations-list', '/admin/operations?ws=contoso&bucket=all');
      await shoot(
        page,
        base,
        'operations-reconciled',
        '/admin/operations?ws=contoso&bucket=reconciled',
      );
      await shoot(page, base, 'run-reconciled', `/admin/operations/${reconciled}`, true);
      await shoot(page, base, 'settings-members', '/settings/w/contoso/members', true);
      await page.goto(`${base}/admin/operations?ws=contoso`);
      await page.getByRole('button', { name: 'Start operation' }).first().click();
      await settled(page, page.getByRole('dialog'));
      await page.screenshot({ path: path.join(OUT, 'start-dialog.png') });
      step('start-dialog.png');
      await page.keyboard.press('Escape');

      // The app follows the system's colour scheme.
      const dark = await newPage(browser, { ...desktop, colorScheme: 'dark' });
      await login(dark, base, 'owner@demo.test');
      await shoot(dark, base, 'dark-tenant-dashboard', '/admin/t/contoso-prod', true);
      await shoot(dark, base, 'dark-run-reconciled', `/admin/operations/${reconciled}`, true);

      // A phone: below `sm` the navigation folds behind the burger and run lists become cards.
      const mobile = await newPage(browser, {
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 1,
      });
      await login(mobile, base, 'owner@demo.test');
      await shoot(
        mobile,
        base,
        'mobile-operations-list',
        '/admin/operations?ws=contoso&bucket=all',
        false,
        {
          ready: '[data-testid="run-table"][data-layout="cards"]',
        },
      );
      await shoot(mobile, base, 'mobile-run-reconciled', `/admin/operations/${reconciled}`);
      await mobile.goto(`${base}/admin/w/contoso`);
      await settled(mobile, mobile.locator('h1').first());
      await mobile.getByTestId('nav-burger').click();
      await settled(mobile, mobile.getByRole('navigation').getByRole('link', { name: 'Members' }));
      await mobile.screenshot({ path: path.join(OUT, 'mobile-navigation.png') });
      step('mobile-navigation.png');

      const staffPage = await newPage(browser, desktop);
      await login(staffPage, base, 'platform@demo.test');
      await shoot(staffPage, base, 'system-failures', '/system/ops/failures');
      await shoot(staffPage, base, 'system-stuck', '/system/ops/stuck');
      await shoot(staffPage, base, 'system-run', `/system/ops/runs/${reconciled}`, true);
      await shoot(staffPage, base, 'system-audit', '/system/audit');
    } finally {
      await browser.close();
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
  step(`done: ${OUT}`);
}

async function shoot(
  page: Page,
  base: string,
  name: string,
  url: string,
  fullPage = false,
  options: { ready?: string } = {},
) {
  await page.goto(`${base}${url}`);
  await settled(page, page.locator(options.ready ?? 'h1').first());
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage });
  step(`${name}.png`);
}

const STILL_LOADING_IS_GONE = `(() => {
  if (document.querySelector('[aria-label="Loading"]')) return false;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text === '…' || text === 'Loading…') return false;
  }
  return true;
})()`;

// Every finite animation or transition ends, then two frames, so what the data changed is painted.
const ANIMATIONS_END = `Promise.all(
  document.getAnimations()
    .filter((a) => Number.isFinite(Number(a.effect && a.effect.getComputedTiming().endTime)))
    .map((a) => a.finished.catch(() => undefined)),
).then(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))`;

/** Per page, its API requests in flight (the live stream aside), each with when it ends. */
const inFlight = new WeakMap<Page, Map<Request, Promise<void>>>();

async function newPage(browser: Browser, options: BrowserContextOptions): Promise<Page> {
  // The waits below poll page-side code given as strings, which the app's CSP (no 'unsafe-eval')
  // would refuse.
  const context = await browser.newContext({ ...options, bypassCSP: true });
  const page = await context.newPage();
  const pending = new Map<Request, Promise<void>>();
  const ends = new Map<Request, () => void>();
  inFlight.set(page, pending);
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (!pathname.startsWith('/api/') || pathname === '/api/stream') return;
    pending.set(request, new Promise((resolve) => ends.set(request, resolve)));
  });
  const done = (request: Request) => {
    ends.get(request)?.();
    ends.delete(request);
    pending.delete(request);
  };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  return page;
}

/**
 * Waits until `ready` is visible, no API request is in flight, nothing on the page still says it
 * is loading (a loader, "Loading…", a "…" placeholder), and every finite animation or transition
 * has ended; again if the data that arrived asked for more. Element and event waits, no sleeps.
 */
async function settled(page: Page, ready: Locator) {
  await ready.waitFor();
  const pending = inFlight.get(page) ?? new Map<Request, Promise<void>>();
  for (let round = 0; round < 20; round++) {
    while (pending.size > 0) await Promise.all(pending.values());
    // Page-side code as strings: this script is typed without the DOM library.
    await page.waitForFunction(STILL_LOADING_IS_GONE);
    await page.evaluate(ANIMATIONS_END);
    if (pending.size === 0) return;
  }
  throw new Error('the page kept loading');
}

async function login(page: Page, base: string, email: string) {
  await page.goto(`${base}/login`);
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

async function firstRunId(page: Page, base: string, bucket: string): Promise<string> {
  const res = await page.request.get(
    `${base}/api/workspaces/contoso/operations?bucket=${bucket}&limit=1`,
  );
  const body = (await res.json()) as { items: Array<{ id: string }> };
  const id = body.items[0]?.id;
  if (!id) throw new Error(`the demo has no ${bucket} run`);
  return id;
}

async function waitForHealth(base: string, server: ChildProcess) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`runwarden start exited with ${server.exitCode}`);
    const ok = await fetch(`${base}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('runwarden start did not become healthy within 120 s');
}

function step(message: string) {
  process.stdout.write(`  ${message}\n`);
}

await main();
