import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { DEMO_PASSWORD } from '../support/http.js';
import { axeViolations, e2eHarness } from './support.js';

const h = await e2eHarness();
// Under a loaded machine a re-render can take a while: polls wait as long as a locator does.
const soon = { timeout: 10_000 };
// Each scenario drives several pages in a row; 30 s is tight when other suites share the CPU.
vi.setConfig({ testTimeout: 90_000 });
let owner: Page;

beforeAll(async () => {
  // No demo login holds platform.directory: the platform user gets it here, as a host would.
  await createDirectory({ db: h.db }).setPlatformStaff({
    email: 'platform@demo.test',
    capabilities: ['system.ops.view', 'system.ops.triage', 'platform.directory'],
  });
  owner = await h.page('owner@demo.test');
});

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${h.base}/login`);
  await fill(page, { Email: email, Password: password });
  await press(page, 'Log in');
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

/** Chooses an option of a Mantine Select by the field's label, within `scope` (a dialog). */
async function choose(
  page: Page,
  label: string,
  option: string,
  scope: Page | Locator = page,
): Promise<void> {
  await scope.getByRole('combobox', { name: label, exact: true }).click();
  // The options list is portalled to the document, outside the dialog.
  await page.getByRole('option', { name: option, exact: true }).click();
}

/** Fills text fields (password fields too) by their exact accessible names. */
async function fill(scope: Page | Locator, fields: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(fields))
    await scope.getByRole('textbox', { name, exact: true }).fill(value);
}

const press = (scope: Page | Locator, name: string) =>
  scope.getByRole('button', { name, exact: true }).click();

const twice = (password: string) => ({
  'New password': password,
  'Confirm new password': password,
});

const memberRow = (email: string) => owner.locator(`[data-member="${email}"]`);
const tenantRow = (slug: string) => owner.locator(`[data-tenant="${slug}"]`);
const tenantStatus = async (slug: string) =>
  (await h.db.selectFrom('tenants').select('status').where('slug', '=', slug).execute())[0]?.status;

describe('members', () => {
  it('invites a new person once; they set a password, sign in and hold the given role', async () => {
    await owner.goto(`${h.base}/settings/w/contoso/members`);
    await fill(owner, { Email: 'newbie@demo.test' });
    await choose(owner, 'Role', 'Operator');
    await owner.getByRole('combobox', { name: 'Tenant restriction' }).click();
    await owner.getByRole('option', { name: 'Contoso Development' }).click();
    await owner.keyboard.press('Escape');
    await press(owner, 'Add member');
    const invite = (await owner.getByTestId('invite-link-value').textContent()) ?? '';
    expect(invite).toMatch(/\/invite\/rwm_/);
    expect(await owner.getByTestId('invite-link').textContent()).toContain('Shown once');
    await expect.poll(() => memberRow('newbie@demo.test').count(), soon).toBe(1);
    await owner.reload();
    await memberRow('newbie@demo.test').waitFor();
    expect(await owner.getByTestId('invite-link').count()).toBe(0);

    const path = `/invite/${invite.split('/invite/')[1]}`;
    const guest = await h.page();
    await guest.goto(`${h.base}${path}`);
    await fill(guest, twice('newbie-secret-1'));
    await press(guest, 'Set password');
    await guest.getByTestId('invite-done').waitFor();
    await guest.getByRole('link', { name: 'Go to login' }).click();
    await guest.waitForURL((url) => url.pathname === '/login');
    await signIn(guest, 'newbie@demo.test', 'newbie-secret-1');
    await guest.waitForURL((url) => url.pathname === '/admin/w/contoso');
    const me = (await guest.evaluate("fetch('/api/me').then((r) => r.json())")) as {
      workspaces: Array<{ slug: string; role: string; tenants: Array<{ slug: string }> }>;
    };
    expect(me.workspaces.map((w) => [w.slug, w.role, w.tenants.map((t) => t.slug)])).toEqual([
      ['contoso', 'operator', ['contoso-dev']],
    ]);
    await guest.context().close();

    // The link works once: a second use shows the API's refusal.
    const again = await h.page();
    await again.goto(`${h.base}${path}`);
    await fill(again, twice('another-secret-2'));
    await press(again, 'Set password');
    await expect
      .poll(() => again.getByTestId('form-error').textContent(), soon)
      .toContain('This invite link is unknown, used, expired or revoked: ask for a new one.');
    await again.context().close();
  });

  it('an existing account joins by accepting signed in; its link sets no password', async () => {
    await owner.goto(`${h.base}/settings/w/contoso/members`);
    await fill(owner, { Email: 'outsider@demo.test', 'Name (optional)': 'Typed by Olivia' });
    await press(owner, 'Add member');
    const invite = (await owner.getByTestId('invite-link-value').textContent()) ?? '';
    expect(invite).toMatch(/\/invite\/rwm_/);
    const row = memberRow('outsider@demo.test');
    await row.getByTestId('member-pending').waitFor();
    expect(await row.textContent()).toContain('Typed by Olivia');
    expect(await row.textContent()).not.toContain('Otto');
    const path = `/invite/${invite.split('/invite/')[1]}`;

    // Whoever holds the link (the owner, here) cannot give the account a password, nor learn
    // from the page that it exists: the answer is a new person's, and the page tells a person
    // who has an account to log in and open the link again.
    const holder = await h.page();
    await holder.goto(`${h.base}${path}`);
    await fill(holder, twice('taken-over-1'));
    await press(holder, 'Set password');
    const done = holder.getByTestId('invite-done');
    await done.waitFor();
    expect(await done.textContent()).toContain('Already had an account with this email?');
    expect(await done.textContent()).toContain('open this invitation link again');
    const stolen = (await holder.evaluate(
      `fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'outsider@demo.test', password: 'taken-over-1' }) })
        .then((r) => r.status)`,
    )) as number;
    expect(stolen).toBe(401);
    await holder.context().close();

    const otto = await h.page('outsider@demo.test');
    await otto.goto(`${h.base}${path}`);
    await press(otto, 'Accept invitation');
    await otto.waitForURL((url) => !url.pathname.startsWith('/invite'));
    const me = (await otto.evaluate("fetch('/api/me').then((r) => r.json())")) as {
      workspaces: Array<{ slug: string; role: string }>;
    };
    expect(me.workspaces.map((w) => `${w.slug}:${w.role}`)).toEqual([
      'contoso:operator',
      'fabrikam:owner',
    ]);
    await otto.context().close();
    await owner.reload();
    await memberRow('outsider@demo.test').waitFor();
    expect(await memberRow('outsider@demo.test').getByTestId('member-pending').count()).toBe(0);
    expect(await memberRow('outsider@demo.test').textContent()).toContain('Otto Outsider');
  });

  it("changes a member's role, then removes them behind a confirmation", async () => {
    await owner.goto(`${h.base}/settings/w/contoso/members`);
    // Adding an existing member's address would silently change their role: the form says so.
    await fill(owner, { Email: 'newbie@demo.test' });
    await owner.getByText('Already a member').waitFor();
    await fill(owner, { Email: '' });
    await press(owner, 'Edit newbie@demo.test');
    const dialog = owner.getByRole('dialog');
    await dialog.waitFor();
    await choose(owner, 'Role', 'Manager', dialog);
    await press(dialog, 'Save');
    await expect
      .poll(() => memberRow('newbie@demo.test').getByTestId('member-role').textContent(), soon)
      .toBe('Manager');

    await press(owner, 'Remove newbie@demo.test');
    await press(owner.getByRole('dialog'), 'Remove');
    await expect.poll(() => memberRow('newbie@demo.test').count(), soon).toBe(0);
  });

  it('shows the 409 message when the last owner tries to remove themselves', async () => {
    await owner.goto(`${h.base}/settings/w/contoso/members`);
    await press(owner, 'Remove owner@demo.test');
    const dialog = owner.getByRole('dialog');
    await press(dialog, 'Remove');
    await expect
      .poll(() => dialog.getByTestId('confirm-error').textContent(), soon)
      .toBe('Workspace contoso would be left without an owner.');
    await press(dialog, 'Cancel');
    expect(await memberRow('owner@demo.test').count()).toBe(1);
  });
});

describe('tenants', () => {
  it('adds, renames, deactivates (with a warning) and reactivates a tenant', async () => {
    await owner.goto(`${h.base}/settings/w/contoso/tenants`);
    await fill(owner, { Slug: 'contoso-qa', Name: 'Contoso QA' });
    await press(owner, 'Add tenant');
    await expect
      .poll(() => tenantRow('contoso-qa').getByTestId('tenant-name').textContent(), soon)
      .toBe('Contoso QA');

    await press(owner, 'Rename contoso-qa');
    const rename = owner.getByRole('dialog');
    await fill(rename, { Name: 'Contoso Quality' });
    await press(rename, 'Save');
    await expect
      .poll(() => tenantRow('contoso-qa').getByTestId('tenant-name').textContent(), soon)
      .toBe('Contoso Quality');

    await press(owner, 'Deactivate contoso-qa');
    const confirm = owner.getByRole('dialog');
    expect(await confirm.textContent()).toContain('new and queued runs will be blocked');
    await press(confirm, 'Deactivate');
    await expect
      .poll(() => tenantRow('contoso-qa').getByTestId('tenant-status').textContent(), soon)
      .toBe('Inactive');
    expect(await tenantStatus('contoso-qa')).toBe('inactive');

    await press(owner, 'Activate contoso-qa');
    await expect
      .poll(() => tenantRow('contoso-qa').getByTestId('tenant-status').textContent(), soon)
      .toBe('Active');
    expect(await tenantStatus('contoso-qa')).toBe('active');
  });
});

describe('API tokens', () => {
  it('shows a new secret once, lists the token without it, and a revoked token answers 401', async () => {
    await owner.goto(`${h.base}/settings/w/contoso/tokens`);
    await fill(owner, { 'Token name': 'ci-e2e' });
    await choose(owner, 'Token role', 'Read-only');
    await press(owner, 'Create token');
    const secret = (await owner.getByTestId('token-secret-value').textContent()) ?? '';
    expect(secret.length).toBeGreaterThan(20);
    expect(await owner.getByTestId('token-secret').textContent()).toContain('Shown once');

    await owner.reload();
    const row = owner.locator('[data-token="ci-e2e"]');
    await row.waitFor();
    expect(await owner.getByTestId('token-secret').count()).toBe(0);
    expect(await owner.locator('body').textContent()).not.toContain(secret);
    expect(await row.getByTestId('token-last-used').textContent()).toBe('Never');
    await expect.poll(() => row.textContent(), soon).toContain('owner@demo.test');
    expect(await row.getByTestId('token-kind').textContent()).toBe('Person');

    const use = () =>
      fetch(`${h.base}/api/workspaces/contoso/operations`, {
        headers: { authorization: `Bearer ${secret}` },
      }).then((res) => res.status);
    expect(await use()).toBe(200);
    await owner.reload();
    await expect
      .poll(() => row.getByTestId('token-last-used').textContent(), soon)
      .toMatch(/^(just now|\d+ s ago)$/);

    await press(owner, 'Revoke ci-e2e');
    await press(owner.getByRole('dialog'), 'Revoke');
    await expect.poll(() => row.textContent(), soon).toContain('Revoked');
    expect(await use()).toBe(401);
  });

  it('shows a service token as a service, made by nobody in person', async () => {
    await createDirectory({ db: h.db }).createToken({
      workspace: 'contoso',
      name: 'deploy-bot',
      role: 'operator',
    });
    await owner.goto(`${h.base}/settings/w/contoso/tokens`);
    const row = owner.locator('[data-token="deploy-bot"]');
    await row.waitFor();
    expect(await row.getByTestId('token-kind').textContent()).toBe('Service');
    expect(await row.textContent()).not.toContain('owner@demo.test');
  });
});

describe('workspaces (platform staff)', () => {
  it('a staff member holding only platform.directory lands on the workspaces page', async () => {
    const directory = createDirectory({ db: h.db });
    const made = await directory.setPlatformStaff({
      email: 'directory-only@demo.test',
      capabilities: ['platform.directory'],
    });
    const invite = made.invites[0];
    if (!invite) throw new Error('a new staff member gets an invite');
    await directory.redeemInvite(
      new URL(invite.url).pathname.split('/').pop() as string,
      DEMO_PASSWORD,
    );
    const staff = await h.page();
    await signIn(staff, 'directory-only@demo.test', DEMO_PASSWORD);
    await staff.waitForURL((url) => url.pathname === '/settings/workspaces');
    await staff.getByRole('button', { name: 'Create workspace' }).waitFor();
    await staff.context().close();
  });

  it('creates a workspace and adds its first owner', async () => {
    const staff = await h.page('platform@demo.test');
    await staff.getByRole('link', { name: 'Workspaces' }).click();
    await staff.waitForURL((url) => url.pathname === '/settings/workspaces');
    await fill(staff, { 'Workspace slug': 'northwind', 'Workspace name': 'Northwind' });
    await press(staff, 'Create workspace');
    await staff.getByTestId('workspace-created').waitFor();
    const row = await h.db
      .selectFrom('workspaces')
      .select('name')
      .where('slug', '=', 'northwind')
      .executeTakeFirst();
    expect(row?.name).toBe('Northwind');

    await staff.getByRole('link', { name: 'Add its members' }).click();
    await staff.waitForURL((url) => url.pathname === '/settings/w/northwind/members');
    await fill(staff, { Email: 'boss@northwind.test' });
    await choose(staff, 'Role', 'Owner');
    await press(staff, 'Add member');
    await staff.getByTestId('invite-link').waitFor();
    await expect
      .poll(() => staff.locator('[data-member="boss@northwind.test"]').count(), soon)
      .toBe(1);
    expect({ violations: await axeViolations(staff) }).toEqual({ violations: [] });
    await staff.context().close();
  });
});

describe('password', () => {
  it('refuses a wrong current password inline, then changes it; the new one signs in', async () => {
    const page = await h.page('manager@demo.test');
    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'Change password' }).click();
    await page.waitForURL((url) => url.pathname === '/settings/password');
    const change = async (current: string) => {
      await fill(page, { 'Current password': current, ...twice('manager-new-secret') });
      await press(page, 'Change password');
    };
    await change('not-the-password');
    await expect
      .poll(() => page.getByTestId('form-error').textContent(), soon)
      .toBe('The current password is not right.');
    await change(DEMO_PASSWORD);
    await page.getByTestId('password-changed').waitFor();
    await page.context().close();

    await expect(h.login('manager@demo.test')).rejects.toThrow(/401/);
    const fresh = await h.page();
    await signIn(fresh, 'manager@demo.test', 'manager-new-secret');
    await fresh.context().close();
  });
});

describe('access', () => {
  for (const email of ['readonly@demo.test', 'operator@demo.test']) {
    it(`${email} sees no Settings and gets not-found on the settings URLs`, async () => {
      const page = await h.page(email);
      await page.getByRole('link', { name: 'Overview' }).waitFor();
      expect(await page.getByRole('navigation').textContent()).not.toMatch(/Settings|Members/);
      for (const path of ['members', 'tenants', 'tokens']) {
        await page.goto(`${h.base}/settings/w/contoso/${path}`);
        await page.getByTestId('not-found').waitFor();
      }
      await page.goto(`${h.base}/settings/workspaces`);
      await page.getByTestId('not-found').waitFor();
      await page.context().close();
    });
  }
});

describe('mobile shell', () => {
  it('at 390×844 keeps the hint, bell and user menu in view and opens the navigation from the burger', async () => {
    const session = await h.login('owner@demo.test');
    const started = await h.request(session, {
      method: 'POST',
      url: '/api/workspaces/contoso/operations',
      payload: { type: 'e2e.patient', tenantId: h.ids.prod, input: { tag: 'mobile' } },
    });
    expect(started.statusCode).toBe(202);
    const context = await h.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, 'owner@demo.test', DEMO_PASSWORD);
    const inView = async (testId: string) => {
      const box = await page.getByTestId(testId).boundingBox();
      return Boolean(
        box && box.x >= 0 && box.y >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844,
      );
    };
    await page.getByTestId('activity-hint').waitFor();
    for (const id of ['activity-hint', 'notification-bell', 'user-menu', 'nav-burger'])
      expect({ id, inView: await inView(id) }).toEqual({ id, inView: true });
    // The collapsed navbar slides out of view and is inert (no Tab stops, no screen reader).
    const navbar = page.getByRole('navigation', { includeHidden: true });
    const members = navbar.getByRole('link', { name: 'Members', includeHidden: true });
    const onScreen = async () => {
      const box = await members.boundingBox();
      return Boolean(box && box.x >= 0 && box.x + box.width <= 390);
    };
    expect(await onScreen()).toBe(false);
    expect(await navbar.getAttribute('inert')).not.toBeNull();
    await page.getByTestId('nav-burger').click();
    await expect.poll(onScreen, soon).toBe(true);
    expect(await navbar.getAttribute('inert')).toBeNull();
    await members.click();
    await page.waitForURL((url) => url.pathname === '/settings/w/contoso/members');
    await expect.poll(onScreen, soon).toBe(false);
    // Narrow, the members are cards, not table rows.
    await page.locator('[data-member="owner@demo.test"]').waitFor();
    expect(await page.locator('tr[data-member]').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });
});

describe('accessibility', () => {
  it('has no critical or serious axe-core violations on the settings pages and the invite page', async () => {
    const anonymous = await h.page();
    const pages: Array<[Page, string]> = [
      [owner, '/settings/w/contoso/members'],
      [owner, '/settings/w/contoso/tenants'],
      [owner, '/settings/w/contoso/tokens'],
      [owner, '/settings/password'],
      [anonymous, '/invite/rwi_unknown'],
    ];
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const [page, url] of pages) {
        await page.emulateMedia({ colorScheme });
        await page.goto(`${h.base}${url}`);
        await page.locator('h1').first().waitFor();
        const violations = await axeViolations(page);
        expect({ url, colorScheme, violations }).toEqual({ url, colorScheme, violations: [] });
      }
    }
    await anonymous.context().close();
  }, 90_000); // ten pages read by axe on a shared machine
});
