import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBuiltins } from '../../src/execution/bulk-action.js';
import { startRun } from '../../src/execution/start.js';
import { until } from '../support/db.js';
import { runTestWorker } from '../support/worker.js';
import { animationsDone, axeViolations, e2eHarness, login } from './support.js';

// Issue 23 point 2 in a real browser (DESIGN §18): rows picked on the list, or all matching its
// filter, cancelled or retried after the server's preview count, as a tracked run a real worker
// runs; a member without the right sees no bulk buttons, and a right lost meanwhile is refused.

const h = await e2eHarness();
registerBuiltins({ db: h.db, runs: h.runs, registry: h.registry });
let worker: Awaited<ReturnType<typeof runTestWorker>>;
let owner: Page;

beforeAll(async () => {
  worker = await runTestWorker(h.t, h.registry, { concurrency: 2 });
  owner = await h.page('owner@demo.test');
});
afterAll(async () => {
  await worker?.close();
});

let n = 0;

/** A run that waits an hour before a worker may take it, so it stays queued (its own input). */
async function queued(tag: string) {
  const { run } = await startRun(h, {
    type: 'e2e.patient',
    workspaceId: h.ids.contoso,
    tenantId: h.ids.prod,
    input: { tag: `${tag}-${++n}` },
    initiatorUserId: await h.userId('owner@demo.test'),
    tags: [tag],
    delaySeconds: 3600,
  });
  return run.id;
}

const row = (page: Page, id: string) =>
  page.locator(`[data-testid="run-table"] [data-run-id="${id}"]`);
const bar = (page: Page) => page.getByTestId('bulk-bar');

const runRow = (id: string) =>
  h.db
    .selectFrom('operation_runs')
    .select(['outcome', 'status', 'retry_of'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

describe('bulk actions on the run list', () => {
  it('cancels two picked runs after a preview, and the bulk run shows it succeeded', async () => {
    const [first, second, untouched] = [
      await queued('pick'),
      await queued('pick'),
      await queued('pick'),
    ];
    await owner.goto(`${h.base}/admin/operations?ws=contoso&search=tag%3Apick`);
    await row(owner, untouched).waitFor();
    expect(await bar(owner).count()).toBe(0);
    for (const id of [first, second]) await row(owner, id).getByRole('checkbox').check();
    expect(await bar(owner).getByTestId('bulk-count').textContent()).toBe('2 selected');
    await animationsDone(owner);
    expect(await axeViolations(owner)).toEqual([]);

    await bar(owner).getByRole('button', { name: 'Cancel…' }).click();
    const dialog = owner.getByRole('dialog', { name: 'Cancel runs' });
    await expect
      .poll(() => dialog.getByTestId('bulk-preview').textContent())
      .toBe('This will cancel 2 runs.');
    await animationsDone(owner);
    expect(await axeViolations(owner)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel 2 runs' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await bar(owner).count()).toBe(0);
    expect(await row(owner, first).getByRole('checkbox').isChecked()).toBe(false);

    await until(
      async () =>
        (await runRow(first)).outcome === 'cancelled' &&
        (await runRow(second)).outcome === 'cancelled',
      { within: 20_000, what: 'both picked runs cancelled' },
    );
    expect((await runRow(untouched)).outcome).toBe('pending');
    // The list refetches: the picked runs now read as cancelled.
    await expect
      .poll(() => row(owner, first).getByTestId('truth-badges').textContent(), {
        timeout: 15_000,
      })
      .toContain('Cancelled');

    await owner.getByTestId('toast-bulk-progress').click();
    await owner.waitForURL(/\/admin\/operations\/[0-9a-f-]{36}$/);
    const bulkId = owner.url().split('/').pop() as string;
    expect(
      (
        await h.db
          .selectFrom('operation_runs')
          .select('type')
          .where('id', '=', bulkId)
          .executeTakeFirstOrThrow()
      ).type,
    ).toBe('runwarden.bulk_action');
    await expect
      .poll(() => owner.getByTestId('truth-badges').first().textContent(), { timeout: 20_000 })
      .toBe('Succeeded');
  });

  it('retries a failed run as a new run linked to it', async () => {
    const failed = await queued('again');
    await h.runs.complete(failed, {
      outcome: 'failed',
      failures: [{ code: 'handler.error', message: 'upstream 503' }],
    });
    await owner.goto(`${h.base}/admin/operations?ws=contoso&search=tag%3Aagain`);
    await row(owner, failed).getByRole('checkbox').check();
    await bar(owner).getByRole('button', { name: 'Retry…' }).click();
    const dialog = owner.getByRole('dialog', { name: 'Retry runs' });
    await expect
      .poll(() => dialog.getByTestId('bulk-preview').textContent())
      .toBe('This will retry 1 run.');
    await dialog.getByRole('button', { name: 'Retry 1 run' }).click();
    await owner.getByTestId('toast-bulk-progress').waitFor();
    const retry = await until(
      () =>
        h.db
          .selectFrom('operation_runs')
          .select(['id', 'outcome'])
          .where('retry_of', '=', failed)
          .executeTakeFirst(),
      { within: 20_000, what: 'the retry of the failed run' },
    );
    expect(retry.id).not.toBe(failed);
    expect((await runRow(failed)).outcome).toBe('failed');
  });

  it('acts on all runs matching a tag search: the preview counts what the list counts', async () => {
    const tagged = [await queued('every'), await queued('every'), await queued('every')];
    await owner.goto(`${h.base}/admin/operations?ws=contoso&search=tag%3Aevery`);
    await expect.poll(() => owner.getByTestId('bucket-all').textContent()).toBe('All (3)');
    await row(owner, tagged[0] as string)
      .getByRole('checkbox')
      .check();
    await bar(owner).getByRole('button', { name: 'Select all 3 matching this filter' }).click();
    expect(await bar(owner).getByTestId('bulk-count').textContent()).toBe(
      'All 3 matching this filter',
    );
    for (const id of tagged)
      expect(await row(owner, id).getByRole('checkbox').isChecked()).toBe(true);
    await animationsDone(owner);
    expect(await axeViolations(owner)).toEqual([]);

    await bar(owner).getByRole('button', { name: 'Cancel…' }).click();
    const dialog = owner.getByRole('dialog', { name: 'Cancel runs' });
    await expect
      .poll(() => dialog.getByTestId('bulk-preview').textContent())
      .toBe('This will cancel 3 runs.');
    await dialog.getByRole('button', { name: 'Keep them' }).click();
    await dialog.waitFor({ state: 'detached' });
    // Kept: nothing was asked of the server beyond the count.
    for (const id of tagged) expect((await runRow(id)).outcome).toBe('pending');

    // Unticking one run leaves "all matching" for the runs shown, less that one.
    await row(owner, tagged[1] as string)
      .getByRole('checkbox')
      .uncheck();
    expect(await bar(owner).getByTestId('bulk-count').textContent()).toBe('2 selected');
    await bar(owner).getByRole('button', { name: 'Clear' }).click();
    expect(await bar(owner).count()).toBe(0);

    // Confirmed, the filter is acted on: every run it matches, not only the ones picked.
    await row(owner, tagged[2] as string)
      .getByRole('checkbox')
      .check();
    await bar(owner).getByRole('button', { name: 'Select all 3 matching this filter' }).click();
    expect(await bar(owner).getByTestId('bulk-count').textContent()).toBe(
      'All 3 matching this filter',
    );
    await bar(owner).getByRole('button', { name: 'Cancel…' }).click();
    await dialog.getByRole('button', { name: 'Cancel 3 runs' }).click();
    await owner.getByTestId('toast-bulk-progress').first().waitFor();
    await until(
      async () => {
        for (const id of tagged) if ((await runRow(id)).outcome !== 'cancelled') return false;
        return true;
      },
      { within: 20_000, what: 'every tagged run cancelled' },
    );
  });

  it('offers a read-only member no selection and no bulk buttons', async () => {
    const id = await queued('readonly');
    const reader = await h.page('readonly@demo.test');
    await reader.goto(`${h.base}/admin/operations?ws=contoso&search=tag%3Areadonly`);
    await row(reader, id).waitFor();
    expect(await reader.getByRole('checkbox').count()).toBe(0);
    expect(await reader.getByRole('button', { name: 'Cancel…' }).count()).toBe(0);
    await reader.context().close();
  });

  it('says so in the dialog when the right was lost since the page loaded', async () => {
    const id = await queued('demoted');
    const manager = await h.page('manager@demo.test');
    await manager.goto(`${h.base}/admin/operations?ws=contoso&search=tag%3Ademoted`);
    await row(manager, id).getByRole('checkbox').check();
    await h.db
      .updateTable('memberships')
      .set({ role: 'readonly' })
      .where('user_id', '=', await h.userId('manager@demo.test'))
      .where('workspace_id', '=', h.ids.contoso)
      .execute();
    await bar(manager).getByRole('button', { name: 'Cancel…' }).click();
    const dialog = manager.getByRole('dialog', { name: 'Cancel runs' });
    await expect
      .poll(() => dialog.getByTestId('bulk-refusal').textContent())
      .toBe('You may not cancel runs here.');
    expect(await dialog.getByRole('button', { name: 'Cancel runs' }).isDisabled()).toBe(true);
    expect((await runRow(id)).outcome).toBe('pending');
    await manager.context().close();
  });

  it('at 390 px wide: cards with checkboxes, the bar fits, nothing scrolls sideways', async () => {
    const id = await queued('phone');
    const context = await h.browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await context.newPage();
    phone.setDefaultTimeout(10_000);
    await login(phone, h.base, 'owner@demo.test');
    await phone.goto(`${h.base}/admin/operations?ws=contoso&search=tag%3Aphone`);
    await row(phone, id).waitFor();
    expect(await phone.getByTestId('run-table').getAttribute('data-layout')).toBe('cards');
    await phone.getByRole('checkbox', { name: 'Select this page' }).check();
    expect(await row(phone, id).getByRole('checkbox').isChecked()).toBe(true);
    await bar(phone).getByRole('button', { name: 'Cancel…' }).waitFor();
    expect(await phone.evaluate('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(390);
    await animationsDone(phone);
    expect(await axeViolations(phone)).toEqual([]);
    await context.close();
  });
});
