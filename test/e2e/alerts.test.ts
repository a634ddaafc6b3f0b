import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertWork } from '../../src/alerts/tasks.js';
import { runTestWorker } from '../support/worker.js';
import { axeViolations, e2eHarness, login } from './support.js';

// The alerts page (DESIGN §18, issue 24 point 3) for a workspace's owners: add a rule, its
// webhook secret shown once, "Send test" through the queue to a real receiver, the delivery shown.

const h = await e2eHarness();
const received: string[] = [];
let hookUrl = '';
let server: http.Server;
let worker: Awaited<ReturnType<typeof runTestWorker>>;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push(body);
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const alerts = alertWork({
    db: h.db,
    publicUrl: h.base,
    policyOf: h.registry.policyOf,
    allowPrivateAddresses: true,
    retryBaseMs: 50,
  });
  worker = await runTestWorker(h.t, h.registry, { jobs: alerts.jobs });
});

afterAll(async () => {
  await worker?.close();
  server?.close();
});

async function browse(email: string, width = 1400): Promise<Page> {
  const context = await h.browser.newContext({ viewport: { width, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => console.error(`[browser] ${error.message}`));
  await login(page, h.base, email);
  return page;
}

const scrollWidth = (page: Page) =>
  page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>;

describe('the alerts page', () => {
  it('adds a webhook rule, shows its secret once, and sends a test that is delivered', async () => {
    const owner = await browse('owner@demo.test');
    await owner.goto(`${h.base}/admin/w/contoso`);
    await owner.getByRole('link', { name: 'Alerts' }).click();
    await owner.waitForURL(`${h.base}/settings/w/contoso/alerts`);
    await owner.getByRole('textbox', { name: 'Rule name' }).fill('Failures to on-call');
    await owner.getByRole('textbox', { name: 'URL' }).fill(hookUrl);
    await owner.getByRole('button', { name: 'Add rule' }).click();
    const secret = owner.getByTestId('rule-secret-value');
    await secret.waitFor();
    expect(await secret.textContent()).toMatch(/^whsec_/);
    const row = owner.locator('[data-testid="alert-rules"] [data-rule="Failures to on-call"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('a run ends failed or reconciled');
    await row.getByRole('button', { name: 'Send test: Failures to on-call' }).click();
    const status = owner.getByTestId('deliveries').getByTestId('delivery-status').first();
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe('delivered');
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0] ?? '{}')).toMatchObject({
      test: true,
      rule: { name: 'Failures to on-call' },
    });
    // The secret is gone once the page is read again.
    await owner.reload();
    await row.waitFor();
    expect(await owner.getByTestId('rule-secret').count()).toBe(0);
    for (const colorScheme of ['light', 'dark'] as const) {
      await owner.emulateMedia({ colorScheme });
      expect({ colorScheme, violations: await axeViolations(owner) }).toEqual({
        colorScheme,
        violations: [],
      });
    }
    await owner.context().close();
  }, 60_000);

  it('is cards without sideways scrolling at 390 px, and not there for a manager', async () => {
    const phone = await browse('owner@demo.test', 390);
    await phone.goto(`${h.base}/settings/w/contoso/alerts`);
    await phone.locator('[data-rule="Failures to on-call"]').waitFor();
    expect(await phone.locator('tr[data-rule]').count()).toBe(0);
    await expect.poll(() => scrollWidth(phone)).toBeLessThanOrEqual(390);
    expect(await axeViolations(phone)).toEqual([]);
    await phone.context().close();
    const manager = await browse('manager@demo.test');
    await manager.goto(`${h.base}/settings/w/contoso/alerts`);
    await manager
      .getByText(/not found/i)
      .first()
      .waitFor();
    expect(await manager.locator('[data-testid="alert-rules"]').count()).toBe(0);
    await manager.context().close();
  }, 60_000);
});
