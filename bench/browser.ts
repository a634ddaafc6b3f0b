import { chromium } from 'playwright-core';
import { findWebRoot } from '../src/http/web.js';
import { DEMO_PASSWORD, demoApp } from './demo-app.js';
import { percentile } from './queue-fixture.js';
import { progress } from './support.js';

const TRANSITIONS = Number(process.env.BENCH_TRANSITIONS ?? 50);

/**
 * Push freshness as an operator sees it: a run's transition (a progress report committed by
 * RunService) → its row on the list page shows the new headline in Chromium, no reload.
 */
export async function main(): Promise<void> {
  if (!findWebRoot()) throw new Error('build the web app first: npm run build');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const f = await demoApp('browser');
  try {
    const { run, base } = f;
    const page = await browser.newPage();
    await page.goto(`${base}/login`);
    await page.getByRole('textbox', { name: 'Email' }).fill('owner@demo.test');
    await page.getByRole('textbox', { name: 'Password' }).fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    await page.goto(`${base}/admin/operations?ws=contoso&bucket=active`);
    const headline = page.locator(`tr[data-run-id="${run.id}"] [data-testid="truth-headline"]`);
    await headline.waitFor();
    progress(`list page open; ${TRANSITIONS} transitions…`);

    const times: number[] = [];
    for (let i = 1; i <= TRANSITIONS; i++) {
      const expected = `${i} / 100000 processed (${Math.floor((i / 100_000) * 100)}%)`;
      const t0 = performance.now();
      await f.runs.reportProgress(run.id, { processed: i, total: 100_000 });
      // Runs in the page, polled every animation frame (typed by hand: no DOM types here).
      await page
        .waitForFunction(
          ([id, text]) => {
            const doc = (globalThis as unknown as { document: PageDocument }).document;
            const cell = doc.querySelector(
              `tr[data-run-id="${id}"] [data-testid="truth-headline"]`,
            );
            return cell?.textContent === text;
          },
          [run.id, expected] as const,
          { polling: 'raf', timeout: 10_000 },
        )
        .catch(async (error) => {
          throw new Error(
            `the row still says "${await headline.textContent()}", not "${expected}"`,
            { cause: error },
          );
        });
      times.push(performance.now() - t0);
      if (i % 10 === 0) progress(`${i} / ${TRANSITIONS}`);
    }
    times.sort((a, b) => a - b);
    const p50 = percentile(times, 50);
    const p95 = percentile(times, 95);
    console.log(
      `  transition → list row changed in the browser: p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`,
    );
    console.log(
      `browser push: p95 ${p95.toFixed(0)} ms over ${TRANSITIONS} transitions (issue target: within 2,000 ms)`,
    );
  } finally {
    await browser.close();
    await f.close();
  }
}

interface PageDocument {
  querySelector(selector: string): { textContent: string | null } | null;
}
