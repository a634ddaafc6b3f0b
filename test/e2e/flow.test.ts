import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { enqueueRun } from '../../src/execution/queue.js';
import { startRun } from '../../src/execution/start.js';
import { admissionPass } from '../../src/flow/admission-pass.js';
import { axeViolations, e2eHarness, login, patient } from './support.js';

// Flow control in the console (DESIGN §17, issue 21 point 5): pause and resume from the tenant
// dashboard and the type view, the system page of limits with overrides, and the start dialog's
// options — in a real browser whose clock is in Auckland (the server does not know that).

const capped = defineOperation({
  type: 'e2e.capped',
  label: 'Capped sync',
  scope: 'tenant',
  input: z.object({ tag: z.string().max(100) }),
  identity: (input) => input,
  lifecycle: patient.lifecycle,
  flow: { concurrency: { perTenant: 1 }, pools: ['graph'] },
  async run() {
    return { outcome: 'succeeded' };
  },
});

const ZONE = 'Pacific/Auckland';
const h = await e2eHarness({
  operations: [capped as OperationDefinition],
  flowPools: [{ name: 'graph', concurrency: { total: 20 } }],
});
const runs = { admitted: '', held: '' };
let owner: Page;
let platform: Page;

async function start(tag: string) {
  const { run } = await startRun(
    { db: h.db, runs: h.runs, registry: h.registry },
    {
      type: 'e2e.capped',
      workspaceId: h.ids.contoso,
      tenantId: h.ids.prod,
      input: { tag },
      initiatorUserId: await h.userId('owner@demo.test'),
    },
  );
  return run.id;
}

async function browse(email: string, width = 1400): Promise<Page> {
  const context = await h.browser.newContext({
    viewport: { width, height: 1000 },
    timezoneId: ZONE,
    locale: 'en-GB',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => console.error(`[browser] ${error.message}`));
  await login(page, h.base, email);
  return page;
}

beforeAll(async () => {
  runs.admitted = await start('first');
  runs.held = await start('second');
  // One admission pass, as if workers had free slots: the tenant's limit of one holds the second.
  await admissionPass({
    db: h.db,
    runs: h.runs,
    types: h.registry.list(),
    pools: h.registry.flowPools,
    readyTarget: 10,
    enqueue: async (trx, run) => {
      await enqueueRun(trx, {
        taskIdentifier: `runwarden:${run.type}`,
        runId: run.id,
        maxAttempts: 1,
        priority: run.priority,
      });
    },
  });
  owner = await browse('owner@demo.test');
  platform = await browse('platform@demo.test');
});

/** What the reader's clock in Auckland shows for `at` today: "14:05". */
const hhmm = (at: Date) =>
  at.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: ZONE });

const scrollWidth = (page: Page) =>
  page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>;

const headlineOf = (page: Page, id: string) =>
  page
    .locator(`[data-testid="run-table"] [data-run-id="${id}"]`)
    .last()
    .getByTestId('truth-headline');

describe('pause and resume in the console', () => {
  it('an owner pauses a tenant from its dashboard: a banner, its held run says paused, then resumes', async () => {
    await owner.goto(`${h.base}/admin/t/contoso-prod`);
    await expect
      .poll(() => headlineOf(owner, runs.held).textContent())
      .toMatch(/^Waiting for capacity/);
    expect(await owner.getByTestId('pause-banner').count()).toBe(0);

    await owner.getByRole('button', { name: 'Pause tenant' }).click();
    const dialog = owner.getByRole('dialog');
    expect(await dialog.textContent()).toContain('Pause Contoso Production?');
    const before = new Date();
    await dialog.getByRole('button', { name: 'Pause tenant' }).click();
    const banner = owner.getByTestId('pause-banner');
    await banner.waitFor();
    const after = new Date();
    expect(await banner.textContent()).toContain('Contoso Production is paused');
    expect([hhmm(before), hhmm(after)]).toContain(
      (await banner.getByTestId('pause-by').textContent())?.match(/at (\d\d:\d\d)\.$/)?.[1],
    );
    expect(await banner.getByTestId('pause-by').textContent()).toMatch(
      /^Paused by Olivia Owner at \d\d:\d\d\.$/,
    );
    // The held run's copy follows at once: the pause, not the limit, is what holds it now.
    await expect
      .poll(() => headlineOf(owner, runs.held).textContent())
      .toMatch(/^Paused for Contoso Production by Olivia Owner at \d\d:\d\d\.$/);
    // Paused once is enough: the button is gone while the pause holds.
    expect(await owner.getByRole('button', { name: 'Pause tenant' }).count()).toBe(0);
    const audited = () =>
      h.db
        .selectFrom('audit_log')
        .select('action')
        .where('action', 'like', 'flow.%')
        .orderBy('at')
        .execute();
    expect(await audited()).toEqual([{ action: 'flow.paused' }]);

    await banner.getByRole('button', { name: 'Resume: Contoso Production is paused' }).click();
    await banner.waitFor({ state: 'detached' });
    await expect.poll(() => headlineOf(owner, runs.held).textContent()).not.toMatch(/^Paused/);
    await owner.getByRole('button', { name: 'Pause tenant' }).waitFor();
    expect(await audited()).toEqual([{ action: 'flow.paused' }, { action: 'flow.resumed' }]);
  });

  it('the type view pauses one type for every tenant, and for one tenant when filtered to it', async () => {
    await owner.goto(`${h.base}/admin/operations?ws=contoso&type=e2e.capped`);
    await owner.getByRole('button', { name: 'Pause Capped sync' }).click();
    const dialog = owner.getByRole('dialog');
    expect(await dialog.textContent()).toContain('Pause Capped sync for every tenant?');
    await dialog.getByRole('button', { name: 'Pause Capped sync' }).click();
    const banner = owner.getByTestId('pause-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Capped sync is paused for every tenant');
    await expect
      .poll(() => headlineOf(owner, runs.held).textContent())
      .toMatch(/^Paused for Capped sync by Olivia Owner/);
    // The tenant's dashboard shows the type's pause too: it holds some of the tenant's runs.
    await owner.goto(`${h.base}/admin/t/contoso-prod`);
    await owner.getByText('Capped sync is paused for every tenant').waitFor();

    // Filtered to a tenant as well, the button pauses the type for that tenant only.
    await owner.goto(`${h.base}/admin/operations?ws=contoso&type=e2e.capped&tenant=contoso-dev`);
    await owner.getByRole('button', { name: 'Pause Capped sync' }).click();
    expect(await owner.getByRole('dialog').textContent()).toContain(
      'Pause Capped sync for Contoso Development?',
    );
    await owner.getByRole('dialog').getByRole('button', { name: 'Pause Capped sync' }).click();
    await owner.getByText('Capped sync is paused for Contoso Development').waitFor();
    const pauses = await h.db
      .selectFrom('flow_pauses')
      .select(['type', 'tenant_id'])
      .orderBy('created_at')
      .execute();
    expect(pauses).toEqual([
      { type: 'e2e.capped', tenant_id: null },
      { type: 'e2e.capped', tenant_id: h.ids.dev },
    ]);
  });

  it('someone who may not cancel runs sees the pauses but no button to pause or resume', async () => {
    const operator = await browse('operator@demo.test');
    await operator.goto(`${h.base}/admin/operations?ws=contoso&type=e2e.capped`);
    await operator.getByTestId('pause-banner').first().waitFor();
    expect(await operator.getByRole('button', { name: /^Pause|^Resume/ }).count()).toBe(0);
    await operator.goto(`${h.base}/admin/t/contoso-prod`);
    await operator.getByTestId('pause-banner').first().waitFor();
    expect(await operator.getByRole('button', { name: /^Pause|^Resume/ }).count()).toBe(0);
    await operator.context().close();
  });

  it('a member restricted to some tenants pauses and resumes only those tenants', async () => {
    await h.db
      .updateTable('memberships')
      .set({ role: 'manager' })
      .where('user_id', '=', await h.userId('restricted@demo.test'))
      .execute();
    // A pause of everything in the workspace: shown to them, not theirs to lift.
    const everything = crypto.randomUUID();
    await h.db
      .insertInto('flow_pauses')
      .values({
        id: everything,
        workspace_id: h.ids.contoso,
        created_by: await h.userId('owner@demo.test'),
      })
      .execute();
    const restricted = await browse('restricted@demo.test');
    const banner = (title: string) =>
      restricted.getByTestId('pause-banner').filter({ hasText: title });
    await restricted.goto(`${h.base}/admin/operations?ws=contoso&type=e2e.patient`);
    await banner('Everything in this workspace is paused').waitFor();
    expect(await restricted.getByRole('button', { name: /^Pause|^Resume/ }).count()).toBe(0);
    await restricted.goto(
      `${h.base}/admin/operations?ws=contoso&type=e2e.patient&tenant=contoso-dev`,
    );
    await restricted.getByRole('button', { name: 'Pause Patient sync' }).waitFor();
    await restricted.goto(`${h.base}/admin/operations?ws=contoso&type=e2e.capped`);
    await banner('Capped sync is paused for Contoso Development').getByRole('button').waitFor();
    expect(await banner('Capped sync is paused for every tenant').getByRole('button').count()).toBe(
      0,
    );
    await restricted.goto(`${h.base}/admin/t/contoso-dev`);
    await restricted.getByRole('button', { name: 'Pause tenant' }).waitFor();
    await restricted.context().close();
    await h.db.deleteFrom('flow_pauses').where('id', '=', everything).execute();
  });

  it('the paused views stay accessible in light and dark, and fit 360 px', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await owner.emulateMedia({ colorScheme });
      for (const url of [
        '/admin/t/contoso-prod',
        '/admin/operations?ws=contoso&type=e2e.capped&tenant=contoso-dev',
      ]) {
        await owner.goto(`${h.base}${url}`);
        await owner.getByTestId('pause-banner').first().waitFor();
        const violations = await axeViolations(owner);
        expect({ url, colorScheme, violations }).toEqual({ url, colorScheme, violations: [] });
      }
    }
    const phone = await browse('owner@demo.test', 360);
    await phone.goto(`${h.base}/admin/t/contoso-prod`);
    await phone.getByTestId('pause-banner').first().waitFor();
    await expect.poll(() => scrollWidth(phone)).toBeLessThanOrEqual(360);
    await phone.context().close();
    // The next tests count runs as the limits see them, with nothing paused.
    await h.db.deleteFrom('flow_pauses').execute();
  }, 90_000);
});

const limitRow = (id: string) =>
  platform.locator(`[data-testid="flow-limits"] [data-limit="${id}"]`);

describe('the system page of flow limits', () => {
  it('lists each limit with its running and waiting runs, and the catalog values under an override', async () => {
    await platform.goto(`${h.base}/admin/operations`);
    await platform.getByRole('link', { name: 'Flow limits' }).click();
    await platform.waitForURL((url) => url.pathname === '/system/flow');
    const row = limitRow('e2e.capped');
    await row.waitFor();
    expect(await row.getByTestId('limit-types').textContent()).toBe('Capped sync');
    expect(await row.getByTestId('limit-concurrency').textContent()).toBe('1 per tenant');
    expect(await row.getByTestId('limit-running').textContent()).toBe('1');
    expect(await row.getByTestId('limit-waiting').textContent()).toBe('1');
    const pool = limitRow('graph');
    expect(await pool.textContent()).toContain('Pool');
    expect(await pool.getByTestId('limit-concurrency').textContent()).toBe('20 in total');
    expect(await pool.getByTestId('limit-running').textContent()).toBe('1');
    expect(await row.getByTestId('limit-overridden').count()).toBe(0);

    // The server's refusal stays in the form, in its words.
    await row.getByRole('button', { name: 'Edit limits of e2e.capped' }).click();
    const dialog = platform.getByRole('dialog');
    await dialog.getByLabel('Per tenant', { exact: true }).fill('5');
    await dialog.getByLabel('In total', { exact: true }).fill('2');
    await dialog.getByRole('button', { name: 'Save' }).click();
    expect(await dialog.getByTestId('form-error').textContent()).toContain(
      'concurrency.perTenant (5) is above concurrency.total (2)',
    );
    await dialog.getByLabel('In total', { exact: true }).fill('');
    await dialog.getByLabel('Per tenant', { exact: true }).fill('3');
    await dialog.getByLabel('Starts (per tenant)', { exact: true }).fill('30');
    await dialog.getByLabel('Window in seconds (per tenant)', { exact: true }).fill('60');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByTestId('limit-overridden').waitFor();
    expect(await row.getByTestId('limit-concurrency').textContent()).toBe('3 per tenant');
    expect(await row.getByTestId('limit-concurrency-declared').textContent()).toBe(
      'Catalog: 1 per tenant',
    );
    expect(await row.getByTestId('limit-rate').textContent()).toBe('30 per 1 min per tenant');
    expect(await row.getByTestId('limit-rate-declared').textContent()).toBe('Catalog: No limit');
    const stored = await h.db
      .selectFrom('flow_limit_overrides')
      .select(['name', 'limits'])
      .execute();
    expect(stored).toEqual([
      {
        name: 'e2e.capped',
        limits: {
          concurrency: { perTenant: 3 },
          rate: { perTenant: { limit: 30, intervalSeconds: 60 } },
        },
      },
    ]);
  });

  it('stays accessible in light and dark, and is cards at 360 px', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await platform.emulateMedia({ colorScheme });
      await platform.goto(`${h.base}/system/flow`);
      await limitRow('e2e.capped').getByTestId('limit-overridden').waitFor();
      const violations = await axeViolations(platform);
      expect({ colorScheme, violations }).toEqual({ colorScheme, violations: [] });
    }
    const phone = await browse('platform@demo.test', 360);
    await phone.goto(`${h.base}/system/flow`);
    const card = phone.locator('[data-testid="flow-limits"] [data-limit="e2e.capped"]');
    await card.waitFor();
    expect(await phone.locator('tr[data-limit]').count()).toBe(0);
    // Its buttons show their whole label, neither squeezed nor cut off by the card.
    for (const button of await card.locator('.mantine-Button-label').all()) {
      const fits = await button.evaluate(
        (el: { scrollWidth: number; clientWidth: number }) => el.scrollWidth <= el.clientWidth,
      );
      expect({ button: await button.textContent(), fits }).toEqual({
        button: await button.textContent(),
        fits: true,
      });
    }
    await expect.poll(() => scrollWidth(phone)).toBeLessThanOrEqual(360);
    await phone.context().close();
  }, 60_000);

  it('"Back to catalog limits" puts the declared limits back', async () => {
    await platform.goto(`${h.base}/system/flow`);
    const row = limitRow('e2e.capped');
    await row.getByRole('button', { name: 'Back to catalog limits for e2e.capped' }).click();
    await platform.getByRole('dialog').getByRole('button', { name: 'Put them back' }).click();
    await row.getByTestId('limit-overridden').waitFor({ state: 'detached' });
    expect(await row.getByTestId('limit-concurrency').textContent()).toBe('1 per tenant');
    expect(await h.db.selectFrom('flow_limit_overrides').select('name').execute()).toEqual([]);
  });
});

describe('the start dialog’s options', () => {
  async function openStart(colorScheme: 'light' | 'dark' = 'light') {
    await owner.emulateMedia({ colorScheme });
    await owner.goto(`${h.base}/admin/t/contoso-prod`);
    await owner.getByRole('button', { name: 'Start operation' }).click();
    const dialog = owner.getByRole('dialog');
    await dialog.getByLabel('Operation', { exact: true }).fill('Patient sync');
    await owner.getByRole('option', { name: 'Patient sync' }).click();
    return dialog;
  }

  it('the server’s refusal of a timing is shown in the dialog, by the field (light and dark)', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const dialog = await openStart(colorScheme);
      await dialog.getByLabel(/^Tag\b(?!s)/).fill('refused');
      await dialog.getByRole('button', { name: 'Options' }).click();
      const expires = dialog.getByLabel('Expires at');
      await expires.fill('2020-01-01T10:00');
      await dialog.getByRole('button', { name: 'Start', exact: true }).click();
      await dialog.getByTestId('start-error').waitFor();
      expect(await dialog.getByTestId('start-error').textContent()).toContain(
        'The request does not match the API schema. expiresAt is already past',
      );
      expect(await expires.getAttribute('aria-invalid')).toBe('true');
      const violations = await axeViolations(owner);
      expect({ colorScheme, violations }).toEqual({ colorScheme, violations: [] });
      await owner.keyboard.press('Escape');
    }
  });

  it('a run started with a delay says "Scheduled" with its start in the reader’s clock', async () => {
    const dialog = await openStart();
    await dialog.getByLabel(/^Tag\b(?!s)/).fill('later');
    const toggle = dialog.getByRole('button', { name: 'Options' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    await dialog.getByText('After a delay').click();
    await dialog.getByText('High', { exact: true }).click();
    await dialog.getByLabel('Delay (minutes)').fill('5');
    const before = Date.now();
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    await owner.getByTestId('toast-view-run').click();
    await owner.waitForURL((url) => /\/admin\/operations\/[0-9a-f-]{36}$/.test(url.pathname));
    const id = owner.url().split('/').pop() ?? '';
    const zone = owner.getByTestId('decision-zone');
    const headline = (await zone.getByTestId('truth-headline').textContent()) ?? '';
    const startsAt = [0, 1].map((s) => hhmm(new Date(before + 5 * 60_000 + s * 1000)));
    expect(headline).toMatch(/^Scheduled — starts \d\d:\d\d \(in [45] min\)\.$/);
    expect(startsAt).toContain(headline.match(/starts (\d\d:\d\d)/)?.[1]);
    expect((await zone.getByTestId('truth-badges').textContent())?.trim()).toBe('Scheduled');
    const stored = await h.db
      .selectFrom('operation_runs')
      .select(['priority', 'held'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ priority: -1, held: true });
  });
});
