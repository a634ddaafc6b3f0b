import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { axeViolations, e2eHarness, login } from './support.js';

// Issue 23 points 1 and 3 in a real browser (DESIGN §18): the list's search box (tag, input value,
// id prefix, a refused search), tags from the start dialog, and "Run again…" with edited input.

/** A region only the server can check (a pattern the form does not know), so its 422 is seen. */
const regional = defineOperation({
  type: 'e2e.regional',
  label: 'Regional export',
  scope: 'tenant',
  input: z.object({ region: z.string().regex(/^[a-z]{2}-\d$/, 'A region like eu-1') }),
  identity: (input) => input,
  async run() {
    return { outcome: 'succeeded' };
  },
});

const h = await e2eHarness({ operations: [regional as OperationDefinition] });
let owner: Page;
let nightly = '';
let weekly = '';

const rows = (page: Page) => page.locator('[data-testid="run-table"] [data-run-id]');
const shownIds = (page: Page) =>
  rows(page).evaluateAll((els) =>
    els.map((el) => (el as unknown as { dataset: { runId: string } }).dataset.runId),
  );
const scrollWidth = (page: Page) =>
  page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>;
const runCount = async () =>
  Number(
    (
      await h.db
        .selectFrom('operation_runs')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

async function begin(type: string, input: Record<string, unknown>, tags: string[] = []) {
  const { run } = await startRun(h, {
    type,
    workspaceId: h.ids.contoso,
    tenantId: h.ids.prod,
    input,
    initiatorUserId: await h.userId('owner@demo.test'),
    tags,
  });
  return run.id;
}

async function search(page: Page, text: string) {
  const field = page.getByRole('textbox', { name: 'Search runs' });
  await field.fill(text);
  await field.press('Enter');
}

beforeAll(async () => {
  nightly = await begin('e2e.patient', { tag: 'n-1' }, ['nightly', 'eu']);
  weekly = await begin('e2e.patient', { tag: 'p-17' }, ['weekly']);
  await begin('inventory.sync', { scope: 'changed' });
  owner = await h.page('owner@demo.test');
});

describe('the search box on the run list', () => {
  it('finds runs by tag, kept in the URL, with the buckets and their counts', async () => {
    await owner.goto(`${h.base}/admin/operations?ws=contoso`);
    await expect.poll(() => rows(owner).count()).toBe(3);
    await search(owner, 'tag:nightly');
    await expect.poll(() => shownIds(owner)).toEqual([nightly]);
    expect(new URL(owner.url()).searchParams.get('search')).toBe('tag:nightly');
    await expect.poll(() => owner.getByTestId('bucket-all').textContent()).toBe('All (1)');
    expect(await owner.getByTestId('bucket-succeeded').textContent()).toBe('Succeeded (0)');
    await owner.getByTestId('bucket-succeeded').click();
    await owner.getByTestId('empty-list').waitFor();
    expect(new URL(owner.url()).searchParams.get('bucket')).toBe('succeeded');

    // Shareable: the same URL in a fresh page shows the same search and runs.
    const shared = await h.page('owner@demo.test');
    await shared.goto(`${h.base}/admin/operations?ws=contoso&search=tag%3Aeu`);
    await expect.poll(() => shownIds(shared)).toEqual([nightly]);
    expect(await shared.getByRole('textbox', { name: 'Search runs' }).inputValue()).toBe('tag:eu');
    await shared.context().close();
    expect(await axeViolations(owner)).toEqual([]);
  });

  it('finds runs by an input value, combined with a tag and the type filter', async () => {
    await owner.goto(`${h.base}/admin/operations?ws=contoso`);
    await search(owner, 'input.tag=p-17');
    await expect.poll(() => shownIds(owner)).toEqual([weekly]);
    await search(owner, 'input.tag=p-17 tag:nightly');
    await owner.getByTestId('empty-list').waitFor();
    await search(owner, 'input.scope=changed');
    await expect.poll(() => rows(owner).count()).toBe(1);
    expect(await rows(owner).first().textContent()).toContain('Inventory');
    await owner.goto(
      `${h.base}/admin/operations?ws=contoso&type=e2e.patient&search=input.scope%3Dchanged`,
    );
    await owner.getByTestId('empty-list').waitFor();
  });

  it('finds a run by the first characters of its id, and opens it by its whole id', async () => {
    await owner.goto(`${h.base}/admin/operations?ws=contoso`);
    const prefix = weekly.slice(0, 18);
    await search(owner, prefix);
    await expect.poll(() => shownIds(owner)).toContain(weekly);
    const hex = prefix.replaceAll('-', '');
    for (const id of await shownIds(owner))
      expect(id?.replaceAll('-', '')).toMatch(new RegExp(`^${hex}`));

    await search(owner, nightly);
    await owner.waitForURL(`${h.base}/admin/operations/${nightly}`);
    await owner.getByTestId('decision-zone').waitFor();
  });

  it('says what is wrong with a search under the field, and the clear button brings the list back', async () => {
    await owner.goto(`${h.base}/admin/operations?ws=contoso`);
    await search(owner, 'abc');
    const field = owner.getByRole('textbox', { name: 'Search runs' });
    await owner.getByText('q is a run id or its first 8 or more characters (0-9, a-f).').waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await owner.getByRole('heading', { name: 'Operations' }).count()).toBe(1);
    expect(await rows(owner).count()).toBe(0);
    expect(await axeViolations(owner)).toEqual([]);

    await owner.getByRole('button', { name: 'Clear search' }).click();
    await expect.poll(() => rows(owner).count()).toBeGreaterThanOrEqual(3);
    expect(await field.inputValue()).toBe('');
    expect(new URL(owner.url()).searchParams.has('search')).toBe(false);
    expect(await field.getAttribute('aria-invalid')).not.toBe('true');
  });

  it('at 390 px wide: the box fits the screen, results are cards, nothing scrolls sideways', async () => {
    const context = await h.browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await context.newPage();
    phone.setDefaultTimeout(10_000);
    await login(phone, h.base, 'owner@demo.test');
    await phone.goto(`${h.base}/admin/operations?ws=contoso`);
    await search(phone, 'tag:weekly');
    await expect.poll(() => shownIds(phone)).toEqual([weekly]);
    expect(await phone.getByTestId('run-table').getAttribute('data-layout')).toBe('cards');
    for (const target of [
      phone.getByRole('textbox', { name: 'Search runs' }),
      phone.getByRole('button', { name: 'Search', exact: true }),
      phone.getByRole('button', { name: 'Clear search' }),
    ]) {
      const box = await target.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    }
    await expect.poll(() => scrollWidth(phone)).toBeLessThanOrEqual(390);
    expect(await axeViolations(phone)).toEqual([]);
    await search(phone, 'zz');
    await phone.getByText('q is a run id or its first 8 or more characters (0-9, a-f).').waitFor();
    await expect.poll(() => scrollWidth(phone)).toBeLessThanOrEqual(390);
    await context.close();
  });
});

describe('tags from the start dialog', () => {
  it('starts a run with tags, shows them on its page, and a tag opens the list searched by it', async () => {
    await owner.goto(`${h.base}/admin/operations?ws=contoso`);
    await owner.getByRole('button', { name: 'Start operation' }).click();
    const dialog = owner.getByRole('dialog');
    await dialog.getByRole('combobox', { name: 'Operation' }).click();
    await owner.getByRole('option', { name: 'Patient sync' }).click();
    await dialog.getByRole('combobox', { name: 'Tenant' }).click();
    await owner.getByRole('option', { name: 'Contoso Production' }).click();
    await dialog.getByRole('textbox', { name: /^Tag\b(?!s)/ }).fill('from-dialog');
    const tags = dialog.getByLabel('Tags', { exact: true });
    await tags.fill('release-42');
    await tags.press('Enter');
    await tags.fill('eu west');
    await tags.press('Enter');
    await tags.fill('x'.repeat(65));
    await tags.press('Enter');
    await dialog.getByText('Each tag is at most 64 characters').waitFor();
    expect(await axeViolations(owner)).toEqual([]);
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    await owner.getByTestId('toast-view-run').click();
    await owner.waitForURL(/\/admin\/operations\/[0-9a-f-]{36}$/);
    const id = new URL(owner.url()).pathname.split('/').pop() as string;
    const badges = owner.getByTestId('run-tags');
    await expect
      .poll(() => badges.getByRole('link').allTextContents())
      .toEqual(['release-42', 'eu west']);
    expect(
      await h.db
        .selectFrom('operation_runs')
        .select(['tags', 'input'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ tags: ['release-42', 'eu west'], input: { tag: 'from-dialog' } });

    await badges.getByRole('link', { name: 'eu west' }).click();
    await owner.waitForURL(/\/admin\/operations\?/);
    expect(new URL(owner.url()).searchParams.get('search')).toBe('tag:"eu west"');
    await expect.poll(() => shownIds(owner)).toEqual([id]);
  });
});

describe('Run again…', () => {
  let original = '';

  beforeAll(async () => {
    original = await begin('e2e.regional', { region: 'eu-1' }, ['exports']);
    await h.runs.complete(original, {
      outcome: 'failed',
      failures: [{ code: 'export.refused', message: 'the region refused' }],
    });
  });

  it('opens the start dialog filled in, starts the edited run, and links the two runs both ways', async () => {
    await owner.goto(`${h.base}/admin/operations/${original}`);
    await owner.getByTestId('decision-zone').waitFor();
    expect(await owner.getByTestId('rerun-by').count()).toBe(0);
    await owner.getByRole('button', { name: 'Run again…' }).click();
    const dialog = owner.getByRole('dialog', { name: 'Run again' });
    const region = dialog.getByRole('textbox', { name: 'Region' });
    expect(await region.inputValue()).toBe('eu-1');
    expect(await dialog.getByRole('combobox', { name: 'Operation' }).inputValue()).toBe(
      'Regional export',
    );
    expect(await dialog.getByRole('combobox', { name: 'Tenant' }).inputValue()).toBe(
      'Contoso Production',
    );
    await region.fill('us-2');
    expect(await axeViolations(owner)).toEqual([]);
    await dialog.getByRole('button', { name: 'Run again' }).click();
    await owner.getByText('Regional export started again').waitFor();
    await owner.getByTestId('toast-view-run').click();
    await owner.waitForURL(
      (url) =>
        /^\/admin\/operations\/[0-9a-f-]{36}$/.test(url.pathname) &&
        !url.pathname.endsWith(original),
    );
    const again = new URL(owner.url()).pathname.split('/').pop() as string;

    const back = owner.getByTestId('rerun-of');
    await expect.poll(() => back.textContent()).toMatch(/^Re-run of the run started .+ — /);
    expect(await back.getByRole('link').getAttribute('href')).toBe(`/admin/operations/${original}`);
    expect(await owner.getByTestId('run-tags').textContent()).toBe('exports');
    const stored = await h.db
      .selectFrom('operation_runs')
      .select(['id', 'input', 'rerun_of', 'outcome'])
      .where('id', 'in', [original, again])
      .orderBy('id')
      .execute();
    expect(stored).toEqual([
      { id: original, input: { region: 'eu-1' }, rerun_of: null, outcome: 'failed' },
      { id: again, input: { region: 'us-2' }, rerun_of: original, outcome: 'pending' },
    ]);

    await back.getByRole('link').click();
    await owner.waitForURL(`${h.base}/admin/operations/${original}`);
    const forward = owner.getByTestId('rerun-by');
    await expect.poll(() => forward.getByRole('link').count()).toBe(1);
    expect(await forward.getByRole('link').getAttribute('href')).toBe(`/admin/operations/${again}`);
    expect(await axeViolations(owner)).toEqual([]);
  });

  it('shows input the type refuses in the dialog, and starts nothing', async () => {
    await owner.goto(`${h.base}/admin/operations/${original}`);
    await owner.getByRole('button', { name: 'Run again…' }).click();
    const dialog = owner.getByRole('dialog', { name: 'Run again' });
    const before = await runCount();
    await dialog.getByRole('textbox', { name: 'Region' }).fill('nowhere');
    await dialog.getByRole('button', { name: 'Run again' }).click();
    await dialog.getByText('A region like eu-1').waitFor();
    expect(await dialog.getByRole('textbox', { name: 'Region' }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(await runCount()).toBe(before);
    // Emptied, the form refuses it before asking the server.
    await dialog.getByRole('textbox', { name: 'Region' }).fill('');
    await dialog.getByRole('button', { name: 'Run again' }).click();
    await dialog.getByText('Required').waitFor();
    expect(await runCount()).toBe(before);
  });

  it('is not offered to a member who may not start operations', async () => {
    const readonly = await h.page('readonly@demo.test');
    await readonly.goto(`${h.base}/admin/operations/${original}`);
    await readonly.getByTestId('decision-zone').waitFor();
    await readonly.getByTestId('rerun-by').waitFor();
    expect(await readonly.getByRole('button', { name: 'Run again…' }).count()).toBe(0);
    await readonly.context().close();
  });
});
