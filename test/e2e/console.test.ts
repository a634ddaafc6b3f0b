import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/execution/start.js';
import { type ClassRuns, e2eHarness, login, seedClassRuns } from './support.js';

// Issue #14 points 8-14 in a real browser: cards at phone width, relative times, one badge tone
// per class, the bell, the start form's bounds, and the system plane's names and links.

const h = await e2eHarness();
let runs: ClassRuns;

beforeAll(async () => {
  runs = await seedClassRuns(h);
});

async function phone(email: string): Promise<Page> {
  const context = await h.browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => console.error(`[browser] ${error.message}`));
  await login(page, h.base, email);
  return page;
}

const scrollWidth = (page: Page) =>
  page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>;

describe('at 390 px wide', () => {
  it('the operations list shows each run as a card with its state and relative time, and nothing overflows', async () => {
    const page = await phone('owner@demo.test');
    await page.goto(`${h.base}/admin/operations?ws=contoso&bucket=all`);
    const card = page.locator(
      `[data-testid="run-table"][data-layout="cards"] [data-run-id="${runs.running}"]`,
    );
    await card.waitFor();
    expect(await page.locator('[data-testid="run-table"] tr[data-run-id]').count()).toBe(0);
    expect((await card.getByTestId('truth-badges').textContent())?.trim()).toBe('Running');
    expect(await card.getByTestId('truth-headline').textContent()).toBe('4 / 10 processed (40%)');
    expect(await card.getByTestId('run-time').textContent()).toMatch(/started (.*ago|just now)/);
    expect(await card.getByText('Contoso Production', { exact: false }).count()).toBe(1);
    const done = page.locator(`[data-run-id="${runs.reconciled}"]`);
    expect(await done.getByTestId('run-time').textContent()).toMatch(
      /finished (.*ago|just now).*ran /,
    );
    // Absolute time on hover.
    expect(await done.locator('[data-time="finished"]').getAttribute('title')).toMatch(/\d{4}/);
    await expect.poll(() => scrollWidth(page)).toBeLessThanOrEqual(390);
    await page.context().close();
  });

  it('the header keeps the activity hint, bell and account inside the screen with a likely-stale run in the hint', async () => {
    const page = await phone('owner@demo.test');
    await page.goto(`${h.base}/admin/operations?ws=contoso&bucket=all`);
    const hint = page.getByTestId('activity-hint');
    // Narrow, the words are hidden from sight but not from the button's name.
    await page.getByRole('button', { name: /^\d+ active\s*\d+ likely stale$/ }).waitFor();
    for (const target of [
      hint,
      page.getByTestId('notification-bell'),
      page.getByTestId('user-menu'),
    ]) {
      const box = await target.boundingBox();
      expect(box).not.toBeNull();
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(390);
    }
    await page.context().close();
  });

  it('the system stuck list is cards too, and nothing overflows', async () => {
    const page = await phone('platform@demo.test');
    await page.goto(`${h.base}/system/ops/stuck`);
    await page.locator(`[data-layout="cards"] [data-run-id="${runs.stale}"]`).waitFor();
    await expect.poll(() => scrollWidth(page)).toBeLessThanOrEqual(390);
    await page.context().close();
  });
});

describe('badges that separate classes', () => {
  it('each class has its own tone, from the run truth, and a stale run is never "Running"', async () => {
    const page = await h.page('owner@demo.test');
    await page.goto(`${h.base}/admin/operations?ws=contoso&bucket=all`);
    const toneOf = async (id: string) => {
      const badges = page.locator(`[data-testid="run-table"] [data-run-id="${id}"]`).first();
      await badges.waitFor();
      return await badges.getByTestId('truth-badges').getAttribute('data-tone');
    };
    const caller = await h.login('owner@demo.test');
    const tones: Record<string, string | null> = {};
    for (const name of ['running', 'stale', 'reconciled', 'followUp', 'succeeded'] as const) {
      tones[name] = await toneOf(runs[name]);
      const api = (
        await h.request(caller, { method: 'GET', url: `/api/operations/${runs[name]}` })
      ).json().truth.tone;
      expect({ name, tone: tones[name] }).toEqual({ name, tone: api });
    }
    expect(new Set(Object.values(tones)).size).toBe(5);
    expect(await toneOf(runs.queued)).toBe(tones.running);

    const stale = page.locator(`[data-testid="run-table"] [data-run-id="${runs.stale}"]`).first();
    const labels = await stale.locator('.mantine-Badge-label').allTextContents();
    expect(labels.map((l) => l.trim())).not.toContain('Running');
    expect(await stale.locator('.mantine-Badge-root').first().getAttribute('data-tone')).not.toBe(
      tones.running,
    );
    await page.context().close();
  });
});

describe('the notification bell', () => {
  it('scrolls, labels by operation type, groups by day, and marks all read', async () => {
    const owner = await h.userId('owner@demo.test');
    for (let i = 0; i < 16; i++) {
      const { run } = await startRun(
        { db: h.db, runs: h.runs, registry: h.registry },
        {
          type: 'e2e.patient',
          workspaceId: h.ids.contoso,
          tenantId: h.ids.prod,
          input: { tag: `bell-${i}` },
          initiatorUserId: owner,
        },
      );
      await h.runs.complete(run.id, { outcome: 'succeeded' });
    }
    const page = await h.page('owner@demo.test');
    await page.goto(`${h.base}/admin/operations?ws=contoso`);
    const bell = page.getByTestId('notification-bell');
    await expect
      .poll(async () => Number(await bell.getAttribute('data-unread')))
      .toBeGreaterThan(16);
    await bell.click();
    const list = page.getByTestId('notification-list');
    await list.getByTestId('notification-item').first().waitFor();
    const titles = await list.getByTestId('notification-title').allTextContents();
    expect(titles.length).toBeGreaterThan(16);
    for (const title of titles) {
      expect(title).not.toMatch(/e2e\.patient|inventory\.sync/);
      expect(title).toMatch(/^(Patient sync|Inventory sync): /);
    }
    expect(await list.locator('.mantine-Menu-label').first().textContent()).toBe('Today');
    // Bounded: the list scrolls inside the dropdown instead of running off the page.
    const size = (await page.evaluate(`(() => {
      const el = document.querySelector(
        '[data-testid="notification-list"] .mantine-ScrollArea-viewport',
      );
      return { scroll: el.scrollHeight, client: el.clientHeight };
    })()`)) as { scroll: number; client: number };
    expect(size.scroll).toBeGreaterThan(size.client);
    expect(size.client).toBeLessThanOrEqual(844);

    await list.getByTestId('mark-all-read').click();
    await expect.poll(() => bell.getAttribute('data-unread')).toBe('0');
    const unread = await h.db
      .selectFrom('notifications')
      .select('id')
      .where('user_id', '=', owner)
      .where('read_at', 'is', null)
      .execute();
    expect(unread).toEqual([]);
    await page.context().close();
  });
});

describe('the start dialog', () => {
  it('shows labels, help and bounds from the schema, and refuses 99999 with the range', async () => {
    const page = await h.page('owner@demo.test');
    await page.goto(`${h.base}/admin/operations?ws=contoso`);
    await page.getByRole('button', { name: 'Start operation' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Operation', { exact: true }).fill('Demo: sleep');
    await page.getByRole('option', { name: 'Demo: sleep' }).click();
    const seconds = dialog.getByLabel(/Duration \(seconds\)/);
    await seconds.waitFor();
    expect(await seconds.getAttribute('required')).not.toBeNull();
    expect(await dialog.textContent()).toContain('How long the run sleeps. Allowed: 0–3600.');

    await dialog.getByLabel('Tenant', { exact: true }).fill('Production');
    await page.getByRole('option', { name: 'Contoso Production' }).click();
    await seconds.fill('99999');
    await seconds.blur();
    await dialog.getByText('Must be between 0 and 3600').waitFor();
    expect(await seconds.inputValue()).toBe('99999');
    await dialog.getByRole('button', { name: 'Start' }).click();
    await dialog.getByText('Must be between 0 and 3600').waitFor();
    expect(await seconds.inputValue()).toBe('99999');
    const started = await h.db
      .selectFrom('operation_runs')
      .select('id')
      .where('type', '=', 'demo.sleep')
      .execute();
    expect(started).toEqual([]);
    await page.context().close();
  });
});

describe('the system plane', () => {
  it('names workspaces and tenants, shows the stuck run’s worker, and its links resolve', async () => {
    const page = await h.page('platform@demo.test');
    await page.goto(`${h.base}/system/ops/stuck`);
    const row = page.locator(`[data-testid="run-table"] tr[data-run-id="${runs.stale}"]`);
    await row.getByText('Contoso · Contoso Production').waitFor();
    expect(await row.textContent()).not.toContain(h.ids.prod);
    const worker = row.getByTestId('stuck-worker');
    expect(await worker.textContent()).toMatch(/e2e-gone.*last heartbeat .*ago/);

    await page.goto(`${h.base}/system/ops/failures`);
    const failed = page.locator(`[data-testid="run-table"] tr[data-run-id="${runs.followUp}"]`);
    await failed.getByText('Contoso · Contoso Production').waitFor();

    await failed.getByRole('link').first().click();
    await page.waitForURL(`**/system/ops/runs/${runs.followUp}`);
    const related = page.getByTestId('related-links');
    await related.waitFor();
    expect(await related.textContent()).toContain('Contoso Production');
    const hrefs = (await page.evaluate(
      `Array.from(document.querySelectorAll('[data-testid="related-links"] a')).map((a) => a.getAttribute('href'))`,
    )) as string[];
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) {
      await page.goto(`${h.base}${href}`);
      await page.locator('h1').first().waitFor();
      expect({ href, notFound: await page.getByTestId('not-found').count() }).toEqual({
        href,
        notFound: 0,
      });
    }
    await page.context().close();
  });
});
