import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LogLevel, toLogLine } from '../../src/domain/run-log-lines.js';
import { startRun } from '../../src/execution/start.js';
import { appendRunLog } from '../../src/runs/run-logs.js';
import { axeViolations, e2eHarness, login } from './support.js';

// The run page's log panel in a real browser (DESIGN §18): the handler's lines in order, live
// while the run is active (the stream about the run announces each batch), a level filter, the
// download as NDJSON; axe clean at desktop width and at 390 px, where nothing overflows.

const h = await e2eHarness();
let runId: string;

beforeAll(async () => {
  const owner = await h.userId('owner@demo.test');
  const { run } = await startRun(
    { db: h.db, runs: h.runs, registry: h.registry },
    {
      type: 'e2e.patient',
      workspaceId: h.ids.contoso,
      tenantId: h.ids.prod,
      input: { tag: 'logged' },
      initiatorUserId: owner,
    },
  );
  runId = run.id;
  await h.runs.markRunning(runId, { workerId: 'e2e-worker' });
  // Determinate progress: the page's "in progress" spinner has an axe finding of its own.
  await h.runs.reportProgress(runId, { processed: 1, total: 4 });
  await write([
    ['debug', 'connecting to graph'],
    ['info', 'fetched 12 policies'],
    ['error', 'policy p7 failed: 503 from graph'],
  ]);
});

/** What the worker's attempt writes, through the one writer of run logs. */
async function write(lines: Array<[LogLevel, string]>) {
  const at = new Date();
  await appendRunLog(
    h.db,
    { id: runId, attempt: 1 },
    lines.map(([level, message]) => toLogLine(level, message, { tenant: 'prod' }, at)),
    { caps: { maxLines: 2000, maxBytes: 1024 * 1024 } },
  );
}

const shown = (page: Page) =>
  page
    .locator('[data-testid="run-log"] [data-seq]')
    .evaluateAll((rows) =>
      rows.map((row) => `${row.getAttribute('data-level')} ${row.textContent}`),
    );

describe('the log panel on a run page', () => {
  it('shows the lines, follows new ones live, filters by level and downloads NDJSON', async () => {
    const page = await h.page('owner@demo.test');
    await page.goto(`${h.base}/admin/operations/${runId}`);
    const panel = page.getByTestId('run-log');
    await panel.getByText('policy p7 failed').waitFor();
    const first = await shown(page);
    expect(first).toHaveLength(3);
    expect(first[0]).toMatch(/^debug .*#1.*connecting to graph.*"tenant":"prod"/);
    expect(await panel.getByRole('switch', { name: 'Follow' }).isChecked()).toBe(true);

    // Written while the page is open: announced on the run's stream, read on with `after`.
    await write([['warn', 'throttled by graph, waiting 2 s']]);
    await panel.getByText('throttled by graph').waitFor();
    expect(await shown(page)).toHaveLength(4);

    await panel.getByRole('combobox', { name: 'Lowest level shown' }).selectOption('warn');
    await expect
      .poll(() => shown(page))
      .toEqual([
        expect.stringMatching(/^error .*policy p7 failed/),
        expect.stringMatching(/^warn .*throttled by graph/),
      ]);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      panel.getByRole('button', { name: 'Download NDJSON' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`run-${runId}.ndjson`);
    const text = await readFile((await download.path()) as string, 'utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; level: string; message: string });
    expect(lines.map((l) => [l.seq, l.level])).toEqual([
      [3, 'error'],
      [4, 'warn'],
    ]);
    expect(await axeViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('fits a 390 px screen and is axe clean there', async () => {
    const context = await h.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await login(page, h.base, 'owner@demo.test');
    await page.goto(`${h.base}/admin/operations/${runId}`);
    await page.getByTestId('run-log').getByText('policy p7 failed').waitFor();
    await expect
      .poll(() => page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>)
      .toBeLessThanOrEqual(390);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });
});
