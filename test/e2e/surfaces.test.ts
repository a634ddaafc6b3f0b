import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/domain/uuid.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { until } from '../support/db.js';
import { axeViolations, type ClassRuns, e2eHarness, seedClassRuns } from './support.js';

const h = await e2eHarness();
let runs: ClassRuns;
let owner: Page;
let platform: Page;

interface Shown {
  headline: string;
  badges: string[];
}

/** What a surface shows for a run: its headline and badge labels (text, not CSS-uppercased). */
async function shown(scope: Locator): Promise<Shown> {
  return {
    headline: ((await scope.getByTestId('truth-headline').first().textContent()) ?? '').trim(),
    badges: (
      await scope
        .getByTestId('truth-badges')
        .first()
        .locator('.mantine-Badge-label')
        .allTextContents()
    ).map((b) => b.trim()),
  };
}

async function expected(id: string): Promise<Shown> {
  const caller = await h.login('owner@demo.test');
  const run = (await h.request(caller, { method: 'GET', url: `/api/operations/${id}` })).json();
  return {
    headline: run.truth.headline,
    badges: run.truth.badges.map((b: { label: string }) => b.label),
  };
}

const row = (page: Page, id: string) =>
  page.locator(`[data-testid="run-table"] tr[data-run-id="${id}"]`).first();

beforeAll(async () => {
  runs = await seedClassRuns(h);
  owner = await h.page('owner@demo.test');
  platform = await h.page('platform@demo.test');
});

describe('one story about each run, on every surface', () => {
  const classes = ['queued', 'running', 'stale', 'reconciled', 'followUp', 'succeeded'] as const;

  for (const name of classes) {
    it(`${name}: the same headline and badges on list, detail, dashboards, activity hint and system panel`, async () => {
      const id = runs[name];
      const truth = await expected(id);
      const seen: Record<string, Shown> = {};

      await owner.goto(`${h.base}/admin/operations?ws=contoso&bucket=all`);
      seen.list = await shown(row(owner, id));
      await owner.goto(`${h.base}/admin/operations/${id}`);
      seen.detail = await shown(owner.getByTestId('decision-zone'));
      await owner.goto(`${h.base}/admin/t/contoso-prod`);
      seen.tenant = await shown(row(owner, id));
      await owner.goto(`${h.base}/admin/w/contoso`);
      seen.workspace = await shown(row(owner, id));
      if (name === 'queued' || name === 'running' || name === 'stale') {
        await owner.getByTestId('activity-hint').click();
        seen.hint = await shown(
          owner.getByTestId('activity-list').locator(`[data-run-id="${id}"]`),
        );
        await owner.keyboard.press('Escape');
      }
      await platform.goto(`${h.base}/system/ops/runs/${id}`);
      seen.system = await shown(platform.getByTestId('decision-zone'));
      if (name === 'stale' || name === 'reconciled' || name === 'followUp') {
        await platform.goto(`${h.base}/system/ops/${name === 'stale' ? 'stuck' : 'failures'}`);
        seen.systemList = await shown(row(platform, id));
      }
      for (const [surface, got] of Object.entries(seen)) {
        expect({ surface, ...got }).toEqual({ surface, ...truth });
      }
    });
  }

  it('shows a stale-active run with counters without a progress bar or calm queue/progress copy anywhere', async () => {
    const calm = /Queued|\d+ \/ \d+ processed/;
    const check = async (scope: Locator) => {
      await expect.poll(() => scope.count()).toBe(1);
      expect(await scope.getByTestId('truth-progress').count()).toBe(0);
      expect(await scope.getByRole('progressbar').count()).toBe(0);
      expect((await scope.textContent()) ?? '').not.toMatch(calm);
    };
    await owner.goto(`${h.base}/admin/operations?ws=contoso&bucket=all`);
    await check(row(owner, runs.stale));
    await owner.goto(`${h.base}/admin/operations/${runs.stale}`);
    await check(owner.getByTestId('decision-zone'));
    await owner.goto(`${h.base}/admin/t/contoso-prod`);
    await check(owner.getByTestId('attention-stale').locator(`tr[data-run-id="${runs.stale}"]`));
    await check(owner.getByTestId('run-table').last().locator(`tr[data-run-id="${runs.stale}"]`));
    await owner.getByTestId('activity-hint').click();
    await check(owner.getByTestId('activity-list').locator(`[data-run-id="${runs.stale}"]`));
    await owner.keyboard.press('Escape');
    await platform.goto(`${h.base}/system/ops/stuck`);
    await check(row(platform, runs.stale));
  });
});

describe('navigation', () => {
  it('drills through from a dashboard tile to the list filtered to the same problem class', async () => {
    for (const [bucket, label, id] of [
      ['active_stale', 'Likely stale', runs.stale],
      ['reconciled', 'Reconciled', runs.reconciled],
      ['terminal_follow_up', 'Needs follow-up', runs.followUp],
    ] as const) {
      await owner.goto(`${h.base}/admin/t/contoso-prod`);
      await owner.getByTestId(`tile-${bucket}`).click();
      await owner.waitForURL((url) => url.searchParams.get('bucket') === bucket);
      expect(new URL(owner.url()).searchParams.get('tenant')).toBe('contoso-prod');
      await expect
        .poll(() => owner.getByTestId(`bucket-${bucket}`).getAttribute('aria-selected'))
        .toBe('true');
      await expect.poll(() => owner.getByTestId('showing').textContent()).toContain(label);
      await expect
        .poll(() => owner.locator('[data-testid="run-table"] tr[data-run-id]').count())
        .toBe(1);
      expect(await row(owner, id).count()).toBe(1);
    }
  });

  it('switches tenant from the shell to that tenant dashboard, and back to all tenants', async () => {
    await owner.goto(`${h.base}/admin/w/contoso`);
    await owner.getByRole('combobox', { name: 'Tenant', exact: true }).click();
    await owner.getByRole('option', { name: 'Contoso Production' }).click();
    await owner.waitForURL((url) => url.pathname === '/admin/t/contoso-prod');
    await expect.poll(() => owner.locator('h1').first().textContent()).toBe('Contoso Production');
    await owner.getByRole('combobox', { name: 'Tenant', exact: true }).click();
    await owner.getByRole('option', { name: 'All tenants' }).click();
    await owner.waitForURL((url) => url.pathname === '/admin/w/contoso');
  });

  it("shows an outsider's deep link to a real run the same not-found page as a random id", async () => {
    const outsider = await h.page('outsider@demo.test');
    await outsider.goto(`${h.base}/admin/operations/${runs.followUp}`);
    const real = await outsider.getByTestId('not-found').textContent();
    await outsider.goto(`${h.base}/admin/operations/${uuidv7()}`);
    const random = await outsider.getByTestId('not-found').textContent();
    expect(real).toBeTruthy();
    expect(real).toBe(random);
    await outsider.context().close();
  });

  it('loads a deep link directly, before login, and returns to it after login', async () => {
    const page = await h.page();
    await page.goto(`${h.base}/admin/operations/${runs.running}`);
    await page.waitForURL((url) => url.pathname === '/login');
    await page.getByRole('textbox', { name: 'Email' }).fill('owner@demo.test');
    await page.getByRole('textbox', { name: 'Password' }).fill('demo-password-for-tests');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((url) => url.pathname === `/admin/operations/${runs.running}`);
    await expect
      .poll(() => page.getByTestId('truth-headline').first().textContent())
      .toBe('4 / 10 processed (40%)');
    await page.context().close();
  });
});

describe('live updates', () => {
  it('a run completed through the API leaves the activity hint and changes its list row within 2 s, without a reload', async () => {
    const ownerApi = await h.login('owner@demo.test');
    const { token } = (
      await h.request(ownerApi, {
        method: 'POST',
        url: '/api/workspaces/contoso/tokens',
        payload: { name: 'e2e', role: 'operator' },
      })
    ).json();
    const bearer = { name: 'token', headers: { authorization: `Bearer ${token}` } };
    const started = (
      await h.request(bearer, {
        method: 'POST',
        url: '/api/workspaces/contoso/operations',
        payload: {
          type: 'restore.execute',
          tenantId: h.ids.prod,
          input: { restoreRunId: 'live-1' },
        },
      })
    ).json().run;
    await h.request(bearer, {
      method: 'POST',
      url: `/api/operations/${started.id}/progress`,
      payload: { processed: 1, total: 4 },
    });

    await owner.goto(`${h.base}/admin/operations?ws=contoso&bucket=all`);
    await expect
      .poll(() => row(owner, started.id).getByTestId('truth-headline').textContent())
      .toBe('1 / 4 processed (25%)');
    await owner.getByTestId('activity-hint').click();
    const inHint = owner.getByTestId('activity-list').locator(`[data-run-id="${started.id}"]`);
    await expect.poll(() => inHint.count()).toBe(1);
    const loads: string[] = [];
    owner.on('load', () => loads.push(owner.url()));

    const done = await h.request(bearer, {
      method: 'POST',
      url: `/api/operations/${started.id}/complete`,
      payload: { outcome: 'succeeded' },
    });
    expect(done.statusCode).toBe(200);
    const t0 = Date.now();
    await until(
      async () =>
        (await row(owner, started.id).getByTestId('truth-headline').textContent()) === 'Succeeded',
      { within: 2_000, every: 20 },
    );
    await until(async () => (await inHint.count()) === 0, {
      within: 2_000 - (Date.now() - t0),
      every: 20,
    });
    expect(loads).toEqual([]);
  });
});

describe('starting an operation', () => {
  it('works with the keyboard alone, and the toast links to the run', async () => {
    const page = await h.page('operator@demo.test');
    await page.goto(`${h.base}/admin/operations?ws=contoso`);
    await page.getByRole('button', { name: 'Start operation' }).waitFor();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(
        'document.activeElement && document.activeElement.textContent',
      );
      if (focused === 'Start operation') break;
    }
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await page.keyboard.type('Patient');
    // The options come from the server: choose only once they are listed.
    await page
      .getByRole('option', { name: /Patient/ })
      .first()
      .waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Production');
    await page
      .getByRole('option', { name: /Production/ })
      .first()
      .waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    await page.keyboard.type('typed-with-keys');
    await page.keyboard.press('Enter');
    const toast = page.getByTestId('toast-view-run');
    await toast.waitFor().catch(async (e) => {
      await page.screenshot({ path: 'scratch/shots/kbd-fail.png' });
      throw e;
    });
    expect(await toast.textContent()).toBe('View run');
    const created = await h.db
      .selectFrom('operation_runs')
      .select('id')
      .where('type', '=', 'e2e.patient')
      .where('input', '@>', JSON.stringify({ tag: 'typed-with-keys' }) as never)
      .execute();
    expect(created).toHaveLength(1);
    expect(await toast.getAttribute('href')).toBe(`/admin/operations/${created[0]?.id}`);
    await page.context().close();
  });
});

describe('the run page says each thing once', () => {
  it('a silent run: when it is marked failed, in the reader\'s clock; a finished one: "what next?" once', async () => {
    // e2e.patient beats every 300 s: lost after 900 s silent, marked failed 900 s after that.
    const past = new RunService({ db: h.db, clock: () => new Date(Date.now() - 1000_000) });
    const { run } = await startRun(
      { db: h.db, runs: past, registry: h.registry },
      {
        type: 'e2e.patient',
        workspaceId: h.ids.contoso,
        tenantId: h.ids.prod,
        input: { tag: 'silent' },
        initiatorUserId: await h.userId('owner@demo.test'),
      },
    );
    await past.markRunning(run.id, { workerId: 'e2e-quiet' });
    await owner.goto(`${h.base}/admin/operations/${run.id}`);
    const zone = owner.getByTestId('decision-zone');
    await expect
      .poll(() => zone.getByTestId('what-next').textContent())
      .toMatch(
        /^The worker stopped reporting 1[67] min ago\. It will be marked failed at .+ unless it reports\.$/,
      );
    const deadline = await owner.evaluate(
      `fetch('/api/operations/${run.id}').then((r) => r.json()).then((v) => v.truth.deadline.at)`,
    );
    // The browser's own clock and zone, as src/web/components/time.ts formats it.
    const shown = await owner.evaluate(`(() => {
      const at = new Date(${JSON.stringify(deadline)});
      return at.toDateString() === new Date().toDateString()
        ? at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
        : at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    })()`);
    expect(await zone.getByTestId('what-next').textContent()).toContain(`at ${shown} unless`);
    expect(await zone.getByTestId('guidance').count()).toBe(0);

    await owner.goto(`${h.base}/admin/operations/${runs.succeeded}`);
    await zone.getByTestId('what-next').waitFor();
    const text = (await zone.textContent()) ?? '';
    expect(text.split('Nothing to do.').length - 1).toBe(1);
  });
});

describe('accessibility', () => {
  it('has no critical or serious axe-core violations on any surface', async () => {
    const pages: Array<[Page, string]> = [
      [owner, '/admin/operations?ws=contoso'],
      ...Object.values(runs).map((id): [Page, string] => [owner, `/admin/operations/${id}`]),
      [owner, '/admin/t/contoso-prod'],
      [owner, '/admin/w/contoso'],
      [platform, '/system/ops/stuck'],
      [platform, '/system/ops/failures'],
      [platform, `/system/ops/runs/${runs.followUp}`],
      [platform, '/system/audit'],
    ];
    const anonymous = await h.page();
    pages.push([anonymous, '/login']);
    const found: Array<{ url: string; scheme: string; violations: unknown[] }> = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const [page, url] of pages) {
        await page.emulateMedia({ colorScheme });
        await page.goto(`${h.base}${url}`);
        await page.waitForLoadState('networkidle').catch(() => undefined);
        await page.locator('h1').first().waitFor();
        const violations = await axeViolations(page);
        if (violations.length) found.push({ url, scheme: colorScheme, violations });
        if (url === '/admin/operations?ws=contoso') {
          // The start dialog, open over the page.
          await page.getByRole('button', { name: 'Start operation' }).click();
          const dialog = page.getByRole('dialog');
          await dialog.getByRole('combobox', { name: 'Operation' }).waitFor();
          // Its first field opens its option list on focus: a listbox the arrow keys scroll
          // (aria-activedescendant), which axe would take for a region a keyboard cannot reach.
          await dialog.getByRole('heading', { name: 'Start an operation' }).click();
          await page.getByRole('listbox').waitFor({ state: 'hidden' });
          const open = await axeViolations(page);
          if (open.length)
            found.push({ url: `${url} (start dialog)`, scheme: colorScheme, violations: open });
        }
      }
    }
    expect(found).toEqual([]);
    // The login page is one main landmark, like every signed-in page.
    expect(await anonymous.getByRole('main').count()).toBe(1);
    await anonymous.context().close();
    // Sixteen pages in two colour schemes, each read by axe: more than the default 30 s.
  }, 300_000);
});
