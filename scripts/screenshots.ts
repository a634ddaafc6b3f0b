// `npm run screenshots`: starts the whole product (`runwarden start` from dist/, on a throwaway
// embedded PostgreSQL seeded with the demo), then renders every surface into docs/screenshots/.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
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
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
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
      await page.goto(`${base}/admin/operations?ws=contoso`);
      await page.getByRole('button', { name: 'Start operation' }).first().click();
      await page.getByRole('dialog').waitFor();
      await page.screenshot({ path: path.join(OUT, 'start-dialog.png') });
      step('start-dialog.png');
      await page.keyboard.press('Escape');

      const staff = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const staffPage = await staff.newPage();
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

async function shoot(page: Page, base: string, name: string, url: string, fullPage = false) {
  await page.goto(`${base}${url}`);
  await page.locator('h1').first().waitFor();
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await page.waitForTimeout(500); // let counts and tiles settle before the picture
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage });
  step(`${name}.png`);
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
