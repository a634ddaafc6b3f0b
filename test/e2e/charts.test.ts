import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, e2eHarness, login } from './support.js';

// Charts (DESIGN §18, issue 24 point 2) on the workspace and tenant dashboards and a type's list:
// runs ended by outcome over a range; a bar's segment opens the list of exactly those runs.

const h = await e2eHarness();
let n = 0;
let owner: Page;

/** A run of `type` on prod that ends now as `ending`. */
async function end(ending: 'succeeded' | 'failed' | 'reconciled', type = 'drift.generate') {
  const { run } = await h.runs.createOrReuse({
    workspaceId: h.ids.contoso,
    tenantId: h.ids.prod,
    type,
    identity: { n: ++n },
    input: { scope: 'all' },
    initiatorUserId: null,
  });
  await h.runs.markRunning(run.id, { workerId: 'charts-e2e' });
  if (ending === 'reconciled')
    await h.runs.forceFail(run.id, {
      reasonCode: 'run.heartbeat_lost',
      message: 'The worker stopped reporting heartbeats.',
      thresholdSeconds: 15,
      evidence: {},
      source: 'reconciler',
    });
  else await h.runs.complete(run.id, { outcome: ending });
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

const scrollWidth = (page: Page) =>
  page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>;

const failed: string[] = [];

beforeAll(async () => {
  for (let i = 0; i < 3; i++) await end('succeeded');
  for (let i = 0; i < 2; i++) failed.push(await end('failed'));
  await end('reconciled');
  owner = await browse('owner@demo.test');
});

/** The dashboard's charts, read for `range`. */
async function charts(page: Page, url: string, range = '1 h') {
  await page.goto(url);
  const box = page.getByTestId('run-charts');
  await box.waitFor();
  await box.getByText(range, { exact: true }).click();
  await box.getByTestId('chart-summary').getByText(/ended/).waitFor();
  return box;
}

describe('charts', () => {
  it('show the runs that ended in the last hour, and a bar opens exactly its runs', async () => {
    const box = await charts(owner, `${h.base}/admin/w/contoso`);
    expect(await box.getByTestId('chart-summary').textContent()).toMatch(/runs? ended; \d+ failed/);
    // The failed segment of the latest bar with failures (the third series): ours, just now.
    const failedBars = box.locator('.recharts-bar').nth(2).locator('path.recharts-rectangle');
    await failedBars.last().click({ force: true });
    await owner.waitForURL(/\/admin\/operations\?/);
    const url = new URL(owner.url());
    expect(url.searchParams.get('bucket')).toBe('terminal_follow_up');
    const from = url.searchParams.get('endedFrom') as string;
    const to = url.searchParams.get('endedTo') as string;
    expect(await owner.getByTestId('showing').textContent()).toMatch(/ended /);
    // The bar's number is the list's: the runs needing follow-up that ended in it.
    const { rows: inBar } = await sql<{ id: string }>`select id from operation_runs
      where workspace_id = ${h.ids.contoso} and parent_id is null and not reconciled
        and outcome in ('failed', 'blocked', 'partially_succeeded')
        and completed_at >= ${from} and completed_at < ${to}`.execute(h.db);
    expect(inBar.map((r) => r.id)).toContain(failed.at(-1));
    await owner
      .locator(`[data-run-id="${failed.at(-1)}"]`)
      .first()
      .waitFor();
    const rows = owner.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(inBar.length);
    // Back to the range the list had.
    await owner.getByTestId('clear-ended').click();
    await expect.poll(() => new URL(owner.url()).searchParams.get('endedFrom')).toBeNull();
  });

  it("show a tenant's runs on its dashboard, and a type's under its list", async () => {
    await end('failed', 'baseline.compare');
    const tenant = await charts(owner, `${h.base}/admin/t/contoso-prod`);
    expect(await tenant.getByTestId('chart-summary').textContent()).toMatch(/runs? ended/);
    const typed = await charts(owner, `${h.base}/admin/operations?ws=contoso&type=drift.generate`);
    expect(await typed.getByTestId('chart-summary').textContent()).toMatch(
      /^6 runs ended; 3 failed, blocked or reconciled \(50 %\)\./,
    );
    const other = await charts(
      owner,
      `${h.base}/admin/operations?ws=contoso&type=baseline.compare`,
    );
    expect(await other.getByTestId('chart-summary').textContent()).toMatch(
      /^1 run ended; 1 failed/,
    );
    await other.getByTestId('chart-range-runs').click();
    await expect.poll(() => new URL(owner.url()).searchParams.get('endedFrom')).toBeTruthy();
    expect(new URL(owner.url()).searchParams.get('type')).toBe('baseline.compare');
  });

  it('stay accessible in light and dark, and fit 390 px without sideways scrolling', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await owner.emulateMedia({ colorScheme });
      await charts(owner, `${h.base}/admin/w/contoso`, '24 h');
      const violations = await axeViolations(owner);
      expect({ colorScheme, violations }).toEqual({ colorScheme, violations: [] });
    }
    await owner.emulateMedia({ colorScheme: 'light' });
    const phone = await browse('owner@demo.test', 390);
    await charts(phone, `${h.base}/admin/w/contoso`, '7 d');
    await expect.poll(() => scrollWidth(phone)).toBeLessThanOrEqual(390);
    expect(await axeViolations(phone)).toEqual([]);
    await phone.context().close();
  }, 60_000);
});
