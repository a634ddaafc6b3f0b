import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostApp, startHostApp } from '../../examples/host-app/app.js';
import { findWebRoot } from '../../src/http/web.js';
import { freshDatabase, until } from '../support/db.js';
import { quietLogger } from '../support/worker.js';
import { CHROMIUM } from './support.js';

// The example host platform (examples/host-app) on a fresh database, driven in Chromium: its own
// login, its own route starting a run, and Runwarden mounted at /ops with no second login.
let host: HostApp;
let browser: Browser;

beforeAll(async () => {
  if (!findWebRoot()) throw new Error('The web app is not built: run `npm run build` first.');
  const t = await freshDatabase();
  host = await startHostApp({ databaseUrl: t.url, port: 0, logger: quietLogger });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
});

async function signIn(user: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => console.error(`[browser] ${error.message}`));
  await page.goto(`${host.url}/login`);
  await page.getByLabel('User').selectOption(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${host.url}/`);
  return page;
}

describe('examples/host-app: Runwarden embedded at /ops', () => {
  it("shows the host's workspace and a run the host started, without a second login", async () => {
    const page = await signIn('ann');
    await page.getByRole('button', { name: 'Back up Northwind EU' }).click();
    // The host's route started the run through rw.start and sent Ann to its page under /ops.
    await page.waitForURL(/\/ops\/admin\/operations\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split('/').pop() as string;
    await expect.poll(() => page.getByTestId('decision-zone').count()).toBe(1);
    // The host's worker runs it to the end; the page follows (live stream under the prefix).
    await expect
      .poll(() => page.getByTestId('truth-headline').first().textContent(), { timeout: 15_000 })
      .toMatch(/succeeded|completed|finished/i);

    await page.goto(`${host.url}/ops/`);
    await page.waitForURL(`${host.url}/ops/admin/w/northwind`);
    await page.goto(`${host.url}/ops/admin/operations?ws=northwind&bucket=all`);
    const row = page.locator(`[data-testid="run-table"] tr[data-run-id="${id}"]`).first();
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('Tenant backup');
    expect(new URL(page.url()).pathname).not.toContain('login');

    // A write from the web app under the prefix (CSRF-checked: x-csrf-token + its cookie).
    await page.getByRole('button', { name: 'Start operation' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('combobox', { name: 'Operation' }).click();
    await page.getByRole('option', { name: 'Tenant backup' }).click();
    await dialog.getByRole('combobox', { name: 'Tenant' }).click();
    await page.getByRole('option', { name: 'Northwind US' }).click();
    await dialog.getByRole('textbox', { name: /reason/i }).fill('from the web app');
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    await page.getByTestId('toast-view-run').click();
    await page.waitForURL(/\/ops\/admin\/operations\/[0-9a-f-]{36}$/);
    const started = new URL(page.url()).pathname.split('/').pop() as string;
    expect(started).not.toBe(id);
    const run = await host.rw.db
      .selectFrom('operation_runs')
      .innerJoin('users', 'users.id', 'operation_runs.initiator_user_id')
      .select(['users.email'])
      .where('operation_runs.id', '=', started)
      .executeTakeFirstOrThrow();
    expect(run.email).toBe('ann@northwind.test');

    // The directory holds what the host said: Ann, owner of northwind, with the tenants it synced.
    const me = await page.request.get(`${host.url}/ops/api/me`);
    const body = (await me.json()) as {
      user: { email: string };
      workspaces: Array<{ slug: string; role: string; tenants: Array<{ slug: string }> }>;
    };
    expect(body.user.email).toBe('ann@northwind.test');
    expect(body.workspaces.map((w) => [w.slug, w.role])).toEqual([['northwind', 'owner']]);
    expect(body.workspaces[0]?.tenants.map((t) => t.slug)).toEqual([
      'northwind-eu',
      'northwind-us',
    ]);
    await page.context().close();
  });

  it("asks for nothing outside /ops: lazily loaded pages, settings, the start dialog; logs out at the host's page", async () => {
    const page = await signIn('ann');
    const outside: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== host.url || !url.pathname.startsWith('/ops/')) outside.push(url.href);
    });
    const { run } = await host.rw.start({
      type: 'host.backup',
      workspace: 'northwind',
      tenant: 'northwind-eu',
      input: { reason: 'every request under /ops' },
    });
    // A deep link loads the run page's chunk (and what it preloads) first thing.
    await page.goto(`${host.url}/ops/admin/operations/${run.id}`);
    await page.getByTestId('decision-zone').waitFor();
    // Each of these pages is its own chunk, fetched when the navigation reaches it.
    const navbar = page.getByRole('navigation', { name: 'Main' });
    await navbar.getByRole('link', { name: 'Operations' }).click();
    await page.getByTestId('run-table').first().waitFor();
    await page.getByRole('button', { name: 'Start operation' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('combobox', { name: 'Operation' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    await navbar.getByRole('link', { name: 'Overview' }).click();
    await page.waitForURL((url) => url.pathname === '/ops/admin/w/northwind');
    for (const name of ['Members', 'Tenants']) {
      await navbar.getByRole('link', { name }).click();
      await page.getByRole('heading', { level: 1, name: new RegExp(name, 'i') }).waitFor();
    }
    // The host owns Ann's password: no "Change password", and no such page under /ops.
    await page.getByTestId('user-menu').click();
    const menu = page.getByRole('menu');
    await menu.getByRole('menuitem', { name: 'Log out' }).waitFor();
    expect(await menu.getByRole('menuitem').allTextContents()).toEqual(['Log out']);
    await page.keyboard.press('Escape');
    await page.goto(`${host.url}/ops/settings/password`);
    await page.getByTestId('not-found').waitFor();
    await page.waitForLoadState('networkidle');
    expect(outside).toEqual([]);

    // "Log out" is the host's sign-out page (logoutUrl), which signs Ann out of the host.
    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL(`${host.url}/logout`);
    expect(outside).toEqual([`${host.url}/logout`]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/login');
    await page.goto(`${host.url}/ops/admin/operations?ws=northwind`);
    await page.waitForURL((url) => url.pathname === '/login');
    await page.context().close();
  });

  it('a host user without rights gets 404 for the workspace and its runs; nobody gets 401', async () => {
    const { run } = await host.rw.start({
      type: 'host.backup',
      workspace: 'northwind',
      tenant: 'northwind-us',
      input: { reason: 'cora test' },
    });
    const cora = await signIn('cora');
    const me = await cora.request.get(`${host.url}/ops/api/me`);
    expect(me.status()).toBe(200);
    expect(((await me.json()) as { workspaces: unknown[] }).workspaces).toEqual([]);
    for (const path of [
      '/ops/api/workspaces/northwind/operations',
      `/ops/api/operations/${run.id}`,
    ])
      expect((await cora.request.get(`${host.url}${path}`)).status()).toBe(404);
    await cora.goto(`${host.url}/ops/admin/operations/${run.id}`);
    await expect.poll(() => cora.getByTestId('not-found').count()).toBe(1);
    await cora.context().close();

    // A page under /ops opened without the host's login goes there, and back after signing in.
    const visitor = await (await browser.newContext()).newPage();
    await visitor.goto(`${host.url}/ops/admin/operations?ws=northwind&bucket=all`);
    await visitor.waitForURL((url) => url.pathname === '/login');
    await visitor.getByLabel('User').selectOption('oscar');
    await visitor.getByRole('button', { name: 'Sign in' }).click();
    await visitor.waitForURL((url) => url.pathname === '/ops/admin/operations');
    await expect
      .poll(() => visitor.locator(`[data-testid="run-table"] tr[data-run-id="${run.id}"]`).count())
      .toBe(1);
    await visitor.context().close();

    const anonymous = await browser.newContext();
    const res = await anonymous.request.get(`${host.url}/ops/api/workspaces/northwind/operations`);
    expect(res.status()).toBe(401);
    await anonymous.close();
  });

  it("a host session that ends mid-visit sends the browser to the host's sign-in, and back", async () => {
    const page = await signIn('ann');
    await page.goto(`${host.url}/ops/admin/operations?ws=northwind&bucket=all`);
    await expect.poll(() => page.getByTestId('run-table').count()).toBeGreaterThan(0);
    // The host's session ends (its cookie gone) while Runwarden's page stays open.
    await page.context().clearCookies();
    await page
      .getByRole('link', { name: /overview/i })
      .first()
      .click();
    // Not Runwarden's login (there is none under /ops): the host's, with the way back.
    await page.waitForURL((url) => url.pathname === '/login');
    expect(new URL(page.url()).searchParams.get('next')).toMatch(/^\/ops\/admin\//);
    await page.getByLabel('User').selectOption('ann');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/ops/admin/'));
    await page.context().close();
  });

  it("the login's next stays on this site, and only the operators and owners it grants start backups", async () => {
    const login = (user: string, next: string) =>
      fetch(`${host.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ user, next }).toString(),
        redirect: 'manual',
      });
    for (const next of [
      '/\\evil.test',
      '/\\/evil.test',
      '//evil.test',
      '/ops//evil.test',
      '/%2fevil.test',
      '/%5Cevil.test',
      '/\t/evil.test',
      '/\n/evil.test',
      'https://evil.test/',
    ]) {
      const res = await login('ann', next);
      expect([next, res.status, res.headers.get('location')]).toEqual([next, 302, '/']);
    }
    const fine = await login('ann', '/ops/admin/operations?ws=northwind');
    expect(fine.headers.get('location')).toBe('/ops/admin/operations?ws=northwind');

    const cookieOf = async (user: string) =>
      ((await login(user, '/')).headers.get('set-cookie') ?? '').split(';')[0] as string;
    const backup = async (user: string) =>
      fetch(`${host.url}/tenants/northwind-eu/backup`, {
        method: 'POST',
        headers: { cookie: await cookieOf(user) },
        redirect: 'manual',
      });
    const before = await host.rw.db.selectFrom('operation_runs').select('id').execute();
    const cora = await backup('cora');
    expect(cora.status).toBe(403);
    expect(await host.rw.db.selectFrom('operation_runs').select('id').execute()).toEqual(before);
    const home = await fetch(`${host.url}/`, { headers: { cookie: await cookieOf('cora') } });
    expect(await home.text()).not.toContain('Back up');
    const oscar = await backup('oscar');
    expect(oscar.status).toBe(302);
    expect(oscar.headers.get('location')).toMatch(/^\/ops\/admin\/operations\/[0-9a-f-]{36}$/);
  });

  it('runs with the one command of its README: DATABASE_URL=… npx tsx examples/host-app/server.ts', async () => {
    const t = await freshDatabase();
    // `npx tsx` as the README says, minus npx's wrapper process (so SIGTERM reaches the app).
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/host-app/server.ts'], {
      env: { ...process.env, DATABASE_URL: t.url, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = once(child, 'exit');
    try {
      const url = await until(() => /at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], {
        within: 30_000,
        what: `the host app's URL in: ${output}`,
      });
      expect((await fetch(`${url}/login`)).status).toBe(200);
      const ops = await fetch(`${url}/ops/api/me`);
      expect(ops.status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await exited;
    expect(code).toBe(0);
  });
});
