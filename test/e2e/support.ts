import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll } from 'vitest';
import { z } from 'zod';
import { demoCatalog } from '../../src/catalog/index.js';
import type { FlowPool } from '../../src/domain/flow.js';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { findWebRoot } from '../../src/http/web.js';
import { RunService } from '../../src/runs/run-service.js';
import { type ApiHarness, apiHarness, DEMO_PASSWORD } from '../support/http.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A type whose lifecycle window outlasts any test, so "fresh" runs stay fresh without a worker. */
export const patient = defineOperation({
  type: 'e2e.patient',
  label: 'Patient sync',
  scope: 'tenant',
  input: z.object({ tag: z.string().max(100) }),
  identity: (input) => input,
  lifecycle: {
    heartbeatSeconds: 300,
    timeoutSeconds: 1800,
    runningStaleAfterSeconds: 3600,
    queuedStaleAfterSeconds: 1800,
  },
  async run() {
    return { outcome: 'succeeded' };
  },
});

export interface E2e extends ApiHarness {
  base: string;
  browser: Browser;
  page(email?: string): Promise<Page>;
}

/**
 * The real app (API + built web app) on a port, a fresh demo database, and Debian's Chromium;
 * `operations` joins the demo catalog and the patient type.
 */
export async function e2eHarness(
  options: { operations?: OperationDefinition[]; flowPools?: FlowPool[] } = {},
): Promise<E2e> {
  if (!findWebRoot()) {
    throw new Error('The web app is not built: run `npm run build` (npm ci does it) first.');
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's chromium package (.ci/run does).`,
    );
  }
  const h = await apiHarness({
    operations: [
      ...(demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }) as OperationDefinition[]),
      patient as OperationDefinition,
      ...(options.operations ?? []),
    ],
    ...(options.flowPools ? { flowPools: options.flowPools } : {}),
  });
  const base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  afterAll(async () => {
    await browser.close();
  });
  return {
    ...h,
    base,
    browser,
    async page(email) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      // A crash in the page fails loudly in the test output instead of as a blank screen.
      page.on('pageerror', (error) => console.error(`[browser] ${error.message}`));
      if (email) await login(page, base, email);
      return page;
    },
  };
}

export async function login(page: Page, base: string, email: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByRole('textbox', { name: 'Password' }).fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

export interface ClassRuns {
  queued: string;
  running: string;
  stale: string;
  reconciled: string;
  followUp: string;
  succeeded: string;
}

/** One run per problem class, all started by the owner in contoso-prod. */
export async function seedClassRuns(h: ApiHarness): Promise<ClassRuns> {
  const owner = await h.userId('owner@demo.test');
  const begin = async (tag: string, runs: RunService = h.runs) =>
    (
      await startRun(
        { db: h.db, runs, registry: h.registry },
        {
          type: 'e2e.patient',
          workspaceId: h.ids.contoso,
          tenantId: h.ids.prod,
          input: { tag },
          initiatorUserId: owner,
        },
      )
    ).run.id;
  const queued = await begin('queued');
  const running = await begin('running');
  await h.runs.markRunning(running, { workerId: 'e2e-worker' });
  await h.runs.reportProgress(running, { processed: 4, total: 10 });

  // Stale: a demo.sleep run whose worker went quiet two hours ago, with counters.
  const past = new RunService({ db: h.db, clock: () => new Date(Date.now() - 2 * 3600_000) });
  const { run: staleRun } = await startRun(
    { db: h.db, runs: past, registry: h.registry },
    {
      type: 'inventory.sync',
      workspaceId: h.ids.contoso,
      tenantId: h.ids.prod,
      input: { scope: 'changed' },
      initiatorUserId: owner,
    },
  );
  await past.markRunning(staleRun.id, { workerId: 'e2e-gone' });
  await past.reportProgress(staleRun.id, { processed: 7, total: 12 });
  await past.addCounts(staleRun.id, { items: 7 });

  const reconciled = await begin('reconciled');
  await h.runs.markRunning(reconciled, { workerId: 'e2e-worker' });
  await h.runs.forceFail(reconciled, {
    reasonCode: 'run.heartbeat_lost',
    message: 'The worker stopped reporting heartbeats.',
    thresholdSeconds: 900,
    evidence: { workerId: 'e2e-worker' },
    source: 'reconciler',
  });
  const followUp = await begin('follow-up');
  await h.runs.complete(followUp, {
    outcome: 'failed',
    failures: [{ code: 'handler.error', message: 'upstream 503' }],
  });
  const succeeded = await begin('succeeded');
  await h.runs.complete(succeeded, { outcome: 'succeeded', counts: { items: 3 } });
  return { queued, running, stale: staleRun.id, reconciled, followUp, succeeded };
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  /** Where, as axe names the first few elements. */
  targets: string[];
}

/** axe-core, injected into the page; returns the critical and serious violations. */
/**
 * Waits until the page's finite animations ended (a dialog's opening fade): axe judges contrast on
 * what is painted, and a half-faded dialog fails it.
 */
export async function animationsDone(page: Page): Promise<void> {
  await page.evaluate(
    'Promise.all(document.getAnimations().filter((a) => a.effect && a.effect.getTiming().iterations !== Infinity).map((a) => a.finished.catch(() => undefined)))',
  );
}

export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const require = createRequire(import.meta.url);
  const source = readFileSync(
    path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js'),
    'utf8',
  );
  await page.evaluate(source);
  // A string runs in the page, where axe is now a global (the test's tsconfig has no DOM types).
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as {
    violations: Array<{
      id: string;
      help: string;
      impact: string;
      nodes: Array<{ target: unknown[] }>;
    }>;
  };
  return result.violations
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map(({ id, impact, help, nodes }) => ({
      id,
      impact,
      help,
      targets: nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
}
