import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { uuidv7 } from '../../src/domain/uuid.js';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { runTestWorker } from '../support/worker.js';
import { axeViolations, e2eHarness } from './support.js';

// Fleet operations in the console (DESIGN §19, issue 22 point 6): started from the dialog over
// every active tenant, followed on the parent's page as a real worker runs the children.

/** Holds contoso-prod's child until the test lets it finish (or it is cancelled). */
let releaseProd: () => void = () => {};
const prodReleased = new Promise<void>((resolve) => {
  releaseProd = resolve;
});

const h = await e2eHarness({ operations: [auditOperation() as OperationDefinition] });

/** Fails on contoso-dev, waits on contoso-prod until released, succeeds everywhere else. */
function auditOperation() {
  return defineOperation({
    type: 'e2e.audit',
    label: 'Tenant audit',
    scope: 'tenant',
    input: z.object({ tag: z.string().max(100) }),
    identity: (input) => input,
    lifecycle: { retries: 0 },
    async run(ctx) {
      const { slug } = await h.db
        .selectFrom('operation_runs as r')
        .innerJoin('tenants', 'tenants.id', 'r.tenant_id')
        .select('tenants.slug')
        .where('r.id', '=', ctx.runId)
        .executeTakeFirstOrThrow();
      if (slug === 'contoso-dev') {
        return {
          outcome: 'failed',
          failures: [{ code: 'audit.refused', message: 'the tenant refused' }],
        };
      }
      if (slug === 'contoso-prod') {
        await new Promise<void>((resolve) => {
          void prodReleased.then(resolve);
          ctx.signal.addEventListener('abort', () => resolve());
        });
        if (ctx.signal.aborted) return { outcome: 'cancelled' };
      }
      return { outcome: 'succeeded', counts: { checked: 1 } };
    },
  });
}

let worker: Awaited<ReturnType<typeof runTestWorker>>;
let owner: Page;
let parentId = '';

beforeAll(async () => {
  // A third active tenant beside contoso-prod and contoso-dev; contoso-legacy is inactive.
  await h.db
    .insertInto('tenants')
    .values({ id: uuidv7(), workspace_id: h.ids.contoso, slug: 'contoso-eu', name: 'Contoso EU' })
    .execute();
  worker = await runTestWorker(h.t, h.registry);
  owner = await h.page('owner@demo.test');
});

afterAll(async () => {
  releaseProd();
  await worker?.close();
});

const childRow = (page: Page, tenant: string) =>
  page.getByTestId('fleet-children').locator('tr[data-run-id]').filter({ hasText: tenant });

const parentRun = () =>
  h.db
    .selectFrom('operation_runs')
    .select(['status', 'outcome', 'fleet', 'tenant_id'])
    .where('id', '=', parentId)
    .executeTakeFirstOrThrow();

describe('a fleet run in the console', () => {
  it('starts from the dialog over all active tenants, skipping the inactive one, with a toast', async () => {
    await owner.goto(`${h.base}/admin/operations?ws=contoso`);
    await owner.getByRole('button', { name: 'Start operation' }).click();
    const dialog = owner.getByRole('dialog');
    await dialog.getByRole('combobox', { name: 'Operation' }).click();
    await owner.getByRole('option', { name: 'Tenant audit' }).click();
    await dialog.getByRole('button', { name: 'Run for all tenants…' }).click();
    const all = dialog.getByRole('radio', { name: 'All active tenants (3)' });
    expect(await all.isChecked()).toBe(true);
    // Choosing tenants: the inactive one is listed as such and cannot be chosen.
    await dialog.getByRole('radio', { name: 'Choose tenants' }).check();
    await dialog.getByRole('combobox', { name: 'Tenants to run on' }).click();
    const legacy = owner.getByRole('option', { name: 'Contoso Legacy (inactive)' });
    expect(await legacy.getAttribute('aria-disabled')).toBe('true');
    // None chosen is refused in the dialog, before any request.
    await dialog.getByRole('button', { name: 'Start on tenants' }).click();
    await dialog.getByText('Choose at least one tenant').waitFor();
    await all.check();
    await dialog.getByRole('textbox', { name: /tag/i }).fill('quarterly');
    expect(await axeViolations(owner)).toEqual([]);
    await dialog.getByRole('button', { name: 'Start on tenants' }).click();

    await expect
      .poll(() => owner.getByTestId('toast-fleet-counts').textContent())
      .toBe('3 started · 1 skipped (inactive)');
    await owner.getByText('Tenant audit started on 3 tenants').waitFor();
    await owner.getByTestId('toast-view-run').click();
    await owner.waitForURL(/\/admin\/operations\/[0-9a-f-]{36}$/);
    parentId = new URL(owner.url()).pathname.split('/').pop() as string;
    expect(await parentRun()).toMatchObject({ fleet: true, tenant_id: null });
  });

  it("lists the parent's tenants with their classes, live, while one is still running", async () => {
    const zone = owner.getByTestId('decision-zone');
    await expect
      .poll(() => zone.getByTestId('truth-headline').textContent(), { timeout: 15_000 })
      .toBe('2 of 3 tenants done, 1 did not succeed');
    await expect
      .poll(() => owner.getByTestId('fleet-summary').textContent())
      .toBe('3 tenants · 2 finished: 1 succeeded, 1 failed · 1 still going · 1 skipped (inactive)');
    const tenants = owner.getByTestId('fleet-children').locator('tr[data-run-id]');
    await expect.poll(() => tenants.count()).toBe(3);
    await expect
      .poll(() => childRow(owner, 'Contoso Production').getByTestId('truth-badges').textContent())
      .toBe('Running');
    expect(await childRow(owner, 'Contoso EU').getByTestId('truth-badges').textContent()).toBe(
      'Succeeded',
    );
    expect(
      await childRow(owner, 'Contoso Development')
        .getByTestId('truth-badges')
        .getAttribute('data-tone'),
    ).toBe('danger');

    // The list's buckets, on the children only.
    const chip = (label: string) =>
      owner.getByTestId('fleet-children').getByText(label, { exact: true }).click();
    await chip('Needs follow-up');
    await expect.poll(() => tenants.count()).toBe(1);
    expect(await tenants.textContent()).toContain('Contoso Development');
    await chip('Active');
    await expect
      .poll(() => tenants.allTextContents())
      .toEqual([expect.stringContaining('Contoso Production')]);
    await chip('All');
    await expect.poll(() => tenants.count()).toBe(3);
    // The start's toast has closed by itself (axe would weigh its fading text).
    await owner.getByTestId('toast-fleet-counts').waitFor({ state: 'detached' });
    expect(await axeViolations(owner)).toEqual([]);
  });

  it('shows the parent in the run list as one row with its progress bar and headline', async () => {
    const list = await h.page('owner@demo.test');
    await list.goto(`${h.base}/admin/operations?ws=contoso&bucket=active`);
    const row = list.locator(`[data-testid="run-table"] tr[data-run-id="${parentId}"]`);
    await expect
      .poll(() => row.getByTestId('truth-headline').textContent())
      .toBe('2 of 3 tenants done, 1 did not succeed');
    await row.getByTestId('truth-progress').waitFor();
    const caller = await h.login('owner@demo.test');
    const { progress } = (
      await h.request(caller, { method: 'GET', url: `/api/operations/${parentId}` })
    ).json().truth;
    expect(progress).toMatchObject({ kind: 'bar', processed: 2, total: 3 });
    expect(
      await row.getByRole('progressbar', { name: `${progress.percent}% processed` }).count(),
    ).toBe(1);
    // One row for the fleet: its tenants' runs are listed on its page, or when filtered to one.
    const children = await h.db
      .selectFrom('fleet_children')
      .select('run_id')
      .where('parent_id', '=', parentId)
      .execute();
    expect(children).toHaveLength(3);
    const rows = list.locator('[data-testid="run-table"] tr[data-run-id]');
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) => (tr as unknown as { dataset: { runId: string } }).dataset.runId),
    );
    expect(shown.filter((id) => children.some((c) => c.run_id === id))).toEqual([]);
    await list.context().close();
  });

  it('follows the last child to the end without a reload: the parent partially succeeded', async () => {
    releaseProd();
    await expect
      .poll(() => childRow(owner, 'Contoso Production').getByTestId('truth-badges').textContent())
      .toBe('Succeeded');
    const zone = owner.getByTestId('decision-zone');
    await expect
      .poll(() => zone.getByTestId('truth-badges').textContent())
      .toMatch(/^Partially succeeded/);
    await expect
      .poll(() => owner.getByTestId('fleet-summary').textContent())
      .toBe('3 tenants · 3 finished: 2 succeeded, 1 failed · 1 skipped (inactive)');
    expect(await parentRun()).toMatchObject({
      status: 'completed',
      outcome: 'partially_succeeded',
    });
  });

  it("a child's page links to its parent; a member who may not see the parent is told, not sent to not-found", async () => {
    await childRow(owner, 'Contoso Development')
      .getByRole('link', { name: 'Tenant audit' })
      .click();
    await owner.waitForURL(/\/admin\/operations\/[0-9a-f-]{36}$/);
    const childId = new URL(owner.url()).pathname.split('/').pop() as string;
    expect(childId).not.toBe(parentId);
    const link = owner.getByTestId('fleet-parent');
    await expect.poll(() => link.textContent()).toMatch(/^Part of fleet run Tenant audit — /);
    await link.getByRole('link').click();
    await owner.waitForURL(`${h.base}/admin/operations/${parentId}`);
    await owner.getByTestId('fleet-children').waitFor();

    // Restricted to contoso-dev: the parent (workspace-wide) is not theirs, the child is.
    const restricted = await h.page('restricted@demo.test');
    await restricted.goto(`${h.base}/admin/operations/${childId}`);
    const said = restricted.getByTestId('fleet-parent');
    await expect.poll(() => said.textContent()).toBe('Part of a fleet run across tenants.');
    expect(await said.getByRole('link').count()).toBe(0);
    await restricted.context().close();
  });
});

describe('retrying a finished fleet', () => {
  it('starts a new fleet over the tenants that did not succeed, linked to the one it retries', async () => {
    await owner.goto(`${h.base}/admin/operations/${parentId}`);
    await owner.getByRole('button', { name: 'Retry tenants that did not succeed' }).click();
    const dialog = owner.getByRole('dialog');
    expect(await dialog.textContent()).toContain(
      'Start Tenant audit again on the 1 tenant that did not succeed, as a new fleet run?',
    );
    await dialog.getByRole('button', { name: 'Retry tenants that did not succeed' }).click();
    await owner.waitForURL(
      (url) =>
        /\/admin\/operations\/[0-9a-f-]{36}$/.test(url.pathname) &&
        !url.pathname.endsWith(parentId),
    );
    const retryId = new URL(owner.url()).pathname.split('/').pop() as string;
    const tenants = owner.getByTestId('fleet-children').locator('tr[data-run-id]');
    await expect
      .poll(() => tenants.allTextContents())
      .toEqual([expect.stringContaining('Contoso Development')]);
    // contoso-dev refuses again: none of the retried tenants succeeded.
    await expect
      .poll(() => owner.getByTestId('decision-zone').getByTestId('truth-badges').textContent(), {
        timeout: 15_000,
      })
      .toMatch(/^Failed/);
    const back = owner
      .getByTestId('related-links')
      .getByRole('link', { name: 'The run this retries' });
    expect(await back.getAttribute('href')).toBe(`/admin/operations/${parentId}`);
    expect(
      await h.db
        .selectFrom('operation_runs')
        .select(['fleet', 'retry_of', 'outcome'])
        .where('id', '=', retryId)
        .executeTakeFirstOrThrow(),
    ).toEqual({ fleet: true, retry_of: parentId, outcome: 'failed' });
  });
});
