import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { enqueueRun } from '../../src/execution/queue.js';
import { startRun } from '../../src/execution/start.js';
import { admissionPass } from '../../src/flow/admission-pass.js';
import { axeViolations, e2eHarness, login, patient } from './support.js';

// Honest waiting in a real browser (DESIGN §17, issue 21 point 6): a run waiting for capacity, a
// paused one and a scheduled one say why on the list and on the detail page, with absolute times
// in the reader's own clock (this browser is in Auckland; the server does not know that).

const capped = defineOperation({
  type: 'e2e.capped',
  label: 'Capped sync',
  scope: 'tenant',
  input: z.object({ tag: z.string().max(100) }),
  identity: (input) => input,
  lifecycle: patient.lifecycle,
  flow: { concurrency: { perTenant: 1 } },
  async run() {
    return { outcome: 'succeeded' };
  },
});

const ZONE = 'Pacific/Auckland';
const h = await e2eHarness({ operations: [capped as OperationDefinition] });
let owner: Page;
const runs = { admitted: '', capacity: '', paused: '', scheduled: '' };
let pausedAt: Date;
let runAt: Date;

async function start(type: string, tenantId: string, tag: string, extra: { runAt?: Date } = {}) {
  const { run } = await startRun(
    { db: h.db, runs: h.runs, registry: h.registry },
    {
      type,
      workspaceId: h.ids.contoso,
      tenantId,
      input: { tag },
      initiatorUserId: await h.userId('owner@demo.test'),
      ...extra,
    },
  );
  return run.id;
}

beforeAll(async () => {
  runs.admitted = await start('e2e.capped', h.ids.prod, 'first');
  runs.capacity = await start('e2e.capped', h.ids.prod, 'second');
  pausedAt = (
    await h.db
      .insertInto('flow_pauses')
      .values({
        id: crypto.randomUUID(),
        workspace_id: h.ids.contoso,
        tenant_id: h.ids.dev,
        created_by: await h.userId('owner@demo.test'),
      })
      .returning('created_at')
      .executeTakeFirstOrThrow()
  ).created_at;
  runs.paused = await start('e2e.capped', h.ids.dev, 'paused');
  runAt = new Date(Date.now() + 3 * 60_000);
  runs.scheduled = await start('e2e.patient', h.ids.prod, 'scheduled', { runAt });
  await admissionPass({
    db: h.db,
    runs: h.runs,
    types: h.registry.list(),
    pools: h.registry.flowPools,
    // As if workers had free slots: the limit, not the worker pool, is what holds the second run.
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
  const context = await h.browser.newContext({
    viewport: { width: 1400, height: 1000 },
    timezoneId: ZONE,
    locale: 'en-GB',
  });
  owner = await context.newPage();
  owner.setDefaultTimeout(10_000);
  owner.on('pageerror', (error) => console.error(`[browser] ${error.message}`));
  await login(owner, h.base, 'owner@demo.test');
});

/** What the reader's clock in Auckland shows for `at`: "14:05" today there, else with the date. */
function hhmm(at: Date): string {
  const day = (d: Date) => d.toLocaleDateString('en-GB', { timeZone: ZONE });
  return day(at) === day(new Date())
    ? at.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: ZONE })
    : at.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: ZONE });
}

interface Shown {
  headline: string;
  badges: string[];
}

async function shown(scope: Locator): Promise<Shown> {
  await scope.getByTestId('truth-headline').first().waitFor();
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

const row = (id: string) => owner.locator(`[data-testid="run-table"] tr[data-run-id="${id}"]`);

/** What the list row, the detail page, the tenant's dashboard and the activity hint show. */
async function onEverySurface(
  id: string,
  tenant: string,
): Promise<{ list: Shown; detail: Shown; dashboard: Shown; hint: Shown }> {
  await owner.goto(`${h.base}/admin/operations?ws=contoso&bucket=all`);
  const list = await shown(row(id));
  await owner.goto(`${h.base}/admin/operations/${id}`);
  const detail = await shown(owner.getByTestId('decision-zone'));
  await owner.goto(`${h.base}/admin/t/${tenant}`);
  const dashboard = await shown(row(id).last());
  await owner.getByTestId('activity-hint').click();
  const hint = await shown(owner.getByTestId('activity-list').locator(`[data-run-id="${id}"]`));
  await owner.keyboard.press('Escape');
  return { list, detail, dashboard, hint };
}

const everywhere = (once: Shown) => ({ list: once, detail: once, dashboard: once, hint: once });

describe('why a queued run waits, in the browser', () => {
  it('waiting for capacity: the numbers and the tenant', async () => {
    expect(await onEverySurface(runs.capacity, 'contoso-prod')).toEqual(
      everywhere({
        headline:
          'Waiting for capacity: 1 of 1 Capped sync runs already running for Contoso Production.',
        badges: ['Waiting'],
      }),
    );
    // The admitted one waits for a worker, and none runs in this test.
    expect((await onEverySurface(runs.admitted, 'contoso-prod')).detail).toEqual({
      headline: 'Queued — no worker is running.',
      badges: ['Queued'],
    });
  });

  it('paused: for what, by whom, and since when in the reader’s clock', async () => {
    const seen = await onEverySurface(runs.paused, 'contoso-dev');
    expect(seen).toEqual(
      everywhere({
        headline: `Paused for Contoso Development by Olivia Owner at ${hhmm(pausedAt)}.`,
        badges: ['Paused'],
      }),
    );
    await owner.goto(`${h.base}/admin/operations/${runs.paused}`);
    expect(await owner.getByTestId('still-active').textContent()).toMatch(/^Yes, held by a pause/);
  });

  it('scheduled: when it starts in the reader’s clock, and in how long', async () => {
    const seen = await onEverySurface(runs.scheduled, 'contoso-prod');
    expect(seen).toEqual(everywhere(seen.detail));
    expect(seen.detail.badges).toEqual(['Scheduled']);
    expect(seen.detail.headline).toMatch(
      new RegExp(`^Scheduled — starts ${hhmm(runAt)} \\(in [23] min\\)\\.$`),
    );
  });

  it('a waiting run is never shown as likely stale, and its pages stay accessible', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await owner.emulateMedia({ colorScheme });
      for (const id of [runs.capacity, runs.paused, runs.scheduled]) {
        await owner.goto(`${h.base}/admin/operations/${id}`);
        const zone = owner.getByTestId('decision-zone');
        await zone.getByTestId('truth-headline').waitFor();
        expect(await zone.textContent()).not.toMatch(/Likely stale|\{time\}/);
        const violations = await axeViolations(owner);
        expect({ id, colorScheme, violations }).toEqual({ id, colorScheme, violations: [] });
      }
      await owner.goto(`${h.base}/admin/operations?ws=contoso&bucket=active`);
      await row(runs.paused).first().waitFor();
      const violations = await axeViolations(owner);
      expect({ colorScheme, violations }).toEqual({ colorScheme, violations: [] });
    }
  }, 90_000); // eight pages read by axe on a shared machine
});
