import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/execution/start.js';
import { markWorkerStopped, registerWorker } from '../../src/execution/worker-registration.js';
import { packageVersion } from '../../src/version.js';
import { axeViolations, e2eHarness, login } from './support.js';

// The workers page (DESIGN §18, issue 23 point 5) for platform staff: each worker process with its
// release, types, slots, running runs and state; a silent worker's runs lead to their triage view.

const h = await e2eHarness();
const ALIVE = 'ip-10-0-12-34.eu-west-1.compute.internal:4821:a1b2c3';
const busy: string[] = [];
let stranded = '';
let platform: Page;

/** A worker row as a process registers it, started `minutesAgo`, last seen `seenMsAgo`. */
async function worker(id: string, minutesAgo: number, seenMsAgo: number, heartbeatMs: number) {
  await registerWorker(h.db, { id, concurrency: 4, heartbeatMs, types: ['e2e.patient'] });
  await h.db
    .updateTable('workers')
    .set({
      started_at: new Date(Date.now() - minutesAgo * 60_000),
      last_seen_at: new Date(Date.now() - seenMsAgo),
      live_slots: 4,
    })
    .where('id', '=', id)
    .execute();
}

async function running(workerId: string, tag: string) {
  const { run } = await startRun(
    { db: h.db, runs: h.runs, registry: h.registry },
    {
      type: 'e2e.patient',
      workspaceId: h.ids.contoso,
      tenantId: h.ids.prod,
      input: { tag },
      initiatorUserId: await h.userId('owner@demo.test'),
    },
  );
  await h.runs.markRunning(run.id, { workerId });
  return run.id;
}

async function browse(email: string, width = 1400): Promise<Page> {
  const context = await h.browser.newContext({ viewport: { width, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => console.error(`[browser] ${error.message}`));
  await login(page, h.base, email);
  return page;
}

beforeAll(async () => {
  // Beats every minute, seen now: alive for the whole test.
  await worker(ALIVE, 5, 0, 60_000);
  for (let i = 0; i < 7; i++) busy.push(await running(ALIVE, `busy-${i}`));
  // Beats every second, unseen for an hour, not yet declared dead.
  await worker('e2e-host:102:silent', 90, 3_600_000, 1_000);
  stranded = await running('e2e-host:102:silent', 'stranded');
  await worker('e2e-host:103:stopped', 180, 3_600_000, 1_000);
  await markWorkerStopped(h.db, 'e2e-host:103:stopped');
  platform = await browse('platform@demo.test');
});

const rowOf = (page: Page, id: string) =>
  page.locator(`[data-testid="workers"] [data-worker="${id}"]`);
const scrollWidth = (page: Page) =>
  page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>;

describe('the workers page', () => {
  it('is in the platform navigation and lists each worker newest first with its facts and state', async () => {
    await platform.goto(`${h.base}/system/ops/stuck`);
    await platform.getByRole('link', { name: 'Workers' }).click();
    await platform.waitForURL(`${h.base}/system/workers`);
    await platform.getByRole('heading', { name: 'Workers' }).waitFor();
    await rowOf(platform, 'e2e-host:103:stopped').waitFor();
    const rows = platform.locator('[data-testid="workers"] tr[data-worker]');
    expect(
      await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-worker'))),
    ).toEqual([ALIVE, 'e2e-host:102:silent', 'e2e-host:103:stopped']);
    const states = await rows.getByTestId('worker-state').allTextContents();
    expect(states).toEqual(['Alive', 'Silent', 'Stopped']);

    const alive = rowOf(platform, ALIVE);
    expect(await alive.getByTestId('worker-version').textContent()).toBe(`v${packageVersion()}`);
    expect(await alive.getByTestId('worker-types').textContent()).toBe('e2e.patient');
    expect(await alive.getByTestId('worker-slots').textContent()).toBe('4 of 4 live');
    expect(await alive.getByTestId('worker-stranded').count()).toBe(0);
    const stopped = rowOf(platform, 'e2e-host:103:stopped');
    expect(await stopped.getByTestId('worker-slots').textContent()).toBe('0 of 4 live');
    expect(await stopped.getByTestId('worker-running').textContent()).toBe('None');
  });

  it("shows a worker's running runs, five first, each linked to its system page", async () => {
    await platform.goto(`${h.base}/system/workers`);
    const running = rowOf(platform, ALIVE).getByTestId('worker-running');
    await running.waitFor();
    expect(await running.textContent()).toContain('7 runs');
    expect(await running.locator('a[data-run-id]').count()).toBe(5);
    await running.getByRole('button', { name: 'Show all 7' }).click();
    expect(await running.locator('a[data-run-id]').count()).toBe(7);
    const last = busy[6] as string;
    const link = running.locator(`a[data-run-id="${last}"]`);
    expect(await link.textContent()).toBe(`e2e.patient · ${last.slice(-8)}`);
    await link.click();
    await platform.waitForURL(`${h.base}/system/ops/runs/${last}`);
  });

  it("leads from a silent worker's runs to their triage view and the stuck runs", async () => {
    await platform.goto(`${h.base}/system/workers`);
    const row = rowOf(platform, 'e2e-host:102:silent');
    await row.getByTestId('worker-stranded').waitFor();
    await row.locator(`a[data-run-id="${stranded}"]`).click();
    await platform.waitForURL(`${h.base}/system/ops/runs/${stranded}`);
    await platform.goBack();
    await row.getByRole('link', { name: 'Stuck runs' }).click();
    await platform.waitForURL(`${h.base}/system/ops/stuck`);
  });

  it('stays accessible in light and dark, and is cards without sideways scrolling at 390 px', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await platform.emulateMedia({ colorScheme });
      await platform.goto(`${h.base}/system/workers`);
      await rowOf(platform, 'e2e-host:102:silent').getByTestId('worker-stranded').waitFor();
      const violations = await axeViolations(platform);
      expect({ colorScheme, violations }).toEqual({ colorScheme, violations: [] });
    }
    const phone = await browse('platform@demo.test', 390);
    await phone.goto(`${h.base}/system/workers`);
    const card = rowOf(phone, 'e2e-host:102:silent');
    await card.getByTestId('worker-stranded').waitFor();
    expect(await phone.locator('tr[data-worker]').count()).toBe(0);
    expect(await card.getByTestId('worker-state').textContent()).toBe('Silent');
    // A long worker id (a cloud host name) wraps within its half of the card.
    const long = rowOf(phone, ALIVE);
    const box = await long.boundingBox();
    const id = await long.getByTestId('worker-id').boundingBox();
    expect((id?.x ?? 0) + (id?.width ?? 0)).toBeLessThanOrEqual(
      (box?.x ?? 0) + (box?.width ?? 0) / 2,
    );
    await expect.poll(() => scrollWidth(phone)).toBeLessThanOrEqual(390);
    const violations = await axeViolations(phone);
    expect(violations).toEqual([]);
    await phone.context().close();
  }, 60_000);

  it('is not found for a workspace owner who is not platform staff', async () => {
    const owner = await browse('owner@demo.test');
    expect(await owner.getByRole('link', { name: 'Workers' }).count()).toBe(0);
    await owner.goto(`${h.base}/system/workers`);
    await owner
      .getByText(/not found/i)
      .first()
      .waitFor();
    expect(await owner.locator('[data-testid="workers"]').count()).toBe(0);
    await owner.context().close();
  });
});
