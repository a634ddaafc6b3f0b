import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { parseOidcGrants } from '../../src/access/oidc-grants.js';
import { loadConfig } from '../../src/config.js';
import { freePort } from '../../src/db/embedded/recovery.js';
import { CHROMIUM } from '../e2e/support.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';
import { Jar, startOidcProvider } from '../support/oidc-provider.js';

// Single sign-on (DESIGN §15) end to end: a real OpenID provider (oidc-provider) over HTTPS with a
// certificate made here, trusted by a real `runwarden serve` child only through
// NODE_EXTRA_CA_CERTS (no "allow insecure" switch), and the redirect flow driven by hand, cookie
// by cookie, as a browser would follow it.

const SECRET = `client-secret-${randomBytes(12).toString('hex')}`;
const t = await freshDatabase();
const directory = createDirectory({ db: t.db });
await directory.upsertWorkspace({ slug: 'contoso', name: 'Contoso' });
await directory.upsertTenant({ workspace: 'contoso', slug: 'contoso-prod', name: 'Contoso Prod' });
await directory.upsertWorkspace({ slug: 'fabrikam', name: 'Fabrikam' });

const rwPort = await freePort();
const rw = `http://127.0.0.1:${rwPort}`;
const provider = await startOidcProvider({
  redirectUri: `${rw}/api/auth/oidc/callback`,
  clientSecret: SECRET,
  // The people the provider knows, by subject; a test changes their groups between sign-ins.
  accounts: {
    alice: { email: 'Alice@Example.com', name: 'Alice', groups: [] },
    bob: { email: 'bob@example.com', name: 'Bob', groups: ['engineering'] },
    carol: { email: 'carol@example.com', name: 'Carol', groups: ['runwarden:contoso:operator'] },
    dave: { email: 'dave@example.com', name: 'Dave', groups: ['runwarden-admins'] },
  },
});
const { accounts, issuer, send } = provider;

let cli: CliProcess;
beforeAll(async () => {
  cli = spawnCli(['serve'], {
    DATABASE_URL: t.url,
    PORT: String(rwPort),
    HOST: '127.0.0.1',
    RUNWARDEN_PUBLIC_URL: rw,
    RUNWARDEN_OIDC_ISSUER: issuer,
    RUNWARDEN_OIDC_CLIENT_ID: 'runwarden',
    RUNWARDEN_OIDC_CLIENT_SECRET: SECRET,
    RUNWARDEN_PASSWORD_LOGIN: 'false',
    NODE_EXTRA_CA_CERTS: provider.caFile,
    LOG_LEVEL: 'debug',
  });
  await cli.waitFor(/listening on/, 60_000);
}, 90_000);
afterAll(async () => {
  if (cli && cli.child.exitCode === null && cli.child.signalCode === null) {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
  await provider.close();
});

async function signIn(who: string, returnTo?: string) {
  provider.signingIn = who;
  const jar = new Jar();
  const login = new URL('/api/auth/oidc/login', rw);
  if (returnTo) login.searchParams.set('returnTo', returnTo);
  const { landed, hops } = await provider.follow(login, jar, rw);
  return { jar, landed, hops };
}

async function me(jar: Jar) {
  const answer = await send(new URL('/api/me', rw), jar);
  if (answer.status !== 200) return { status: answer.status };
  const body = JSON.parse(answer.body) as {
    user: { email: string };
    workspaces: Array<{ slug: string; role: string }>;
    platform: { capabilities: string[] };
  };
  return {
    status: 200,
    email: body.user.email,
    workspaces: body.workspaces.map((w) => `${w.slug}:${w.role}`),
    platform: body.platform.capabilities,
  };
}

describe('single sign-on with a real OpenID provider (runwarden serve, HTTPS provider)', () => {
  it('the login page learns SSO is on and password login is off; the password route refuses', async () => {
    const demo = await send(new URL('/api/auth/demo', rw), new Jar());
    expect(JSON.parse(demo.body)).toEqual({ logins: [], sso: true, passwordLogin: false });
    const login = await send(new URL('/api/auth/login', rw), new Jar(), {
      method: 'POST',
      body: { email: 'alice@example.com', password: 'whatever-password' },
    });
    expect(login.status).toBe(403);
    expect(JSON.parse(login.body).error.code).toBe('forbidden');
  });

  it('runwarden:contoso:operator signs Alice in to Contoso as operator, landing on the app', async () => {
    accounts.set('alice', {
      email: 'Alice@Example.com',
      name: 'Alice',
      groups: ['staff', 'runwarden:contoso:operator', 'runwarden:nowhere:owner'],
    });
    const first = await signIn('alice');
    expect(first.landed).toBe('/');
    // login → provider (authorize, interaction, resume) → callback → the app
    expect(first.hops[0]).toMatch(/^302 .*\/api\/auth\/oidc\/login$/);
    expect(first.hops.some((h) => h.startsWith(`302 ${issuer}/`) || h.includes(issuer))).toBe(true);
    expect(first.hops.at(-1)).toMatch(/^302 .*\/api\/auth\/oidc\/callback\?code=/);
    expect(await me(first.jar)).toEqual({
      status: 200,
      email: 'alice@example.com',
      workspaces: ['contoso:operator'],
      platform: [],
    });
    // An unknown workspace in the claim creates nothing; it is logged.
    expect(
      (await t.db.selectFrom('workspaces').select('slug').orderBy('slug').execute()).map(
        (w) => w.slug,
      ),
    ).toEqual(['contoso', 'fabrikam']);
    await cli.waitFor(/some role claim values were not applied/, 5_000);
    // The same session shape as a password login: a login audit row with the method.
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', '=', 'auth.login')
      .execute();
    expect(audit.map((a) => a.details)).toEqual([{ method: 'oidc' }]);
  });

  it('returns to the deep link the sign-in started from (and never to another origin)', async () => {
    const deep = await signIn('alice', '/admin/operations?bucket=active');
    expect(deep.landed).toBe('/admin/operations?bucket=active');
    const offsite = await signIn('alice', '//evil.example/x');
    expect(offsite.landed).toBe('/');
  });

  it('at the next sign-in the claims rule: a claim removed removes the membership; platform capabilities follow', async () => {
    const before = await signIn('alice');
    expect((await me(before.jar)).workspaces).toEqual(['contoso:operator']);
    accounts.set('alice', {
      email: 'alice@example.com',
      name: 'Alice A.',
      groups: ['runwarden:fabrikam:readonly', 'runwarden:platform:system.ops.view'],
    });
    const after = await signIn('alice');
    expect(after.landed).toBe('/');
    expect(await me(after.jar)).toEqual({
      status: 200,
      email: 'alice@example.com',
      workspaces: ['fabrikam:readonly'],
      platform: ['system.ops.view'],
    });
    // Leaving a workspace ends no session (DESIGN §10): her older one sees what she holds now.
    expect(await me(before.jar)).toMatchObject({ status: 200, workspaces: ['fabrikam:readonly'] });
    const members = await t.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
      .select(['workspaces.slug', 'memberships.role'])
      .where('users.email', '=', 'alice@example.com')
      .execute();
    expect(members).toEqual([{ slug: 'fabrikam', role: 'readonly' }]);
    // Every change went through the directory: audited, source http.
    const changes = await t.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', 'in', ['member.created', 'member.removed', 'platform_staff.created'])
      .execute();
    expect(changes.map((c) => `${c.action} ${(c.details as { key: string }).key}`).sort()).toEqual([
      'member.created contoso/alice@example.com',
      'member.created fabrikam/alice@example.com',
      'member.removed contoso/alice@example.com',
      'platform_staff.created alice@example.com',
    ]);
    expect(changes.every((c) => (c.details as { source: string }).source === 'http')).toBe(true);
  });

  it('a person with no matching claim value signs in to no workspace', async () => {
    const bob = await signIn('bob');
    expect(bob.landed).toBe('/');
    expect(await me(bob.jar)).toEqual({
      status: 200,
      email: 'bob@example.com',
      workspaces: [],
      platform: [],
    });
  });

  it('a forged or missing state, or a provider error, redirects to /login?error=sso with a log line', async () => {
    // No sign-in started in this session: no state to match.
    const missing = await send(
      new URL('/api/auth/oidc/callback?code=abc&state=xyz', rw),
      new Jar(),
    );
    expect(missing).toMatchObject({ status: 302, location: '/login?error=sso' });

    // A sign-in started, but the callback carries another state.
    const jar = new Jar();
    const started = await send(new URL('/api/auth/oidc/login', rw), jar);
    expect(started.status).toBe(302);
    const forged = await send(
      new URL(
        `/api/auth/oidc/callback?code=abc&state=forged&iss=${encodeURIComponent(issuer)}`,
        rw,
      ),
      jar,
    );
    expect(forged).toMatchObject({ status: 302, location: '/login?error=sso' });
    expect((await me(jar)).status).toBe(401);

    // The provider says no (the real state comes back with the error).
    const jar2 = new Jar();
    const started2 = await send(new URL('/api/auth/oidc/login', rw), jar2);
    const state = new URL(started2.location ?? '').searchParams.get('state') ?? '';
    const denied = await send(
      new URL(
        `/api/auth/oidc/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(issuer)}`,
        rw,
      ),
      jar2,
    );
    expect(denied).toMatchObject({ status: 302, location: '/login?error=sso' });
    await cli.waitFor(/sso sign-in failed/, 5_000);
    expect(cli.output()).not.toMatch(/"statusCode":500/);
  });

  it('a disabled user is refused at the callback', async () => {
    await directory.disableUser({ email: 'bob@example.com' });
    const bob = await signIn('bob');
    expect(bob.landed).toBe('/login?error=sso');
    expect((await me(bob.jar)).status).toBe(401);
  });

  it('without NODE_EXTRA_CA_CERTS the provider is not trusted: the sign-in fails to /login?error=sso, not a 500', async () => {
    const port = await freePort();
    const untrusting = spawnCli(['serve'], {
      DATABASE_URL: t.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      RUNWARDEN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      RUNWARDEN_OIDC_ISSUER: issuer,
      RUNWARDEN_OIDC_CLIENT_ID: 'runwarden',
      RUNWARDEN_OIDC_CLIENT_SECRET: SECRET,
      NODE_EXTRA_CA_CERTS: undefined,
    });
    try {
      await untrusting.waitFor(/listening on/, 60_000);
      const answer = await send(new URL(`http://127.0.0.1:${port}/api/auth/oidc/login`), new Jar());
      expect(answer).toMatchObject({ status: 302, location: '/login?error=sso' });
      expect(await untrusting.waitFor(/sso sign-in failed/, 5_000)).toMatch(/certificate/i);
      expect(untrusting.output()).not.toContain(SECRET);
    } finally {
      untrusting.child.kill('SIGTERM');
      await untrusting.exited;
    }
  }, 90_000);

  it('the client secret never appears in the logs', () => {
    expect(cli.output()).toContain('sso sign-in failed');
    expect(cli.output()).not.toContain(SECRET);
  });
});

describe('single sign-on in Chromium', () => {
  it('the login page offers only "Sign in with SSO"; it goes through the provider and back to the deep link', async () => {
    // Chromium trusts the provider's certificate by its public key, and nothing else: no
    // --ignore-certificate-errors, no ignoreHTTPSErrors.
    const spki = createHash('sha256')
      .update(new X509Certificate(provider.cert).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--ignore-certificate-errors-spki-list=${spki}`,
      ],
    });
    try {
      const page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(15_000);
      provider.signingIn = 'carol';
      // A deep link while signed out: the app sends the browser to the login page first.
      await page.goto(`${rw}/admin/operations?bucket=active`);
      await page.waitForURL((url) => url.pathname === '/login');
      const sso = page.getByRole('link', { name: 'Sign in with SSO' });
      await sso.waitFor();
      expect(await page.getByRole('textbox', { name: 'Password' }).count()).toBe(0);
      await sso.click();
      await page.waitForURL((url) => url.origin === rw && url.pathname === '/admin/operations');
      expect(new URL(page.url()).searchParams.get('bucket')).toBe('active');
      const signedIn = await page.evaluate(async () => {
        const body = (await (await fetch('/api/me')).json()) as {
          user: { email: string };
          workspaces: Array<{ slug: string; role: string }>;
        };
        return {
          email: body.user.email,
          workspaces: body.workspaces.map((w) => `${w.slug}:${w.role}`),
        };
      });
      expect(signedIn).toEqual({ email: 'carol@example.com', workspaces: ['contoso:operator'] });

      // Someone no claim value grants anything signs in to the app's "no workspace" page.
      const other = await (await browser.newContext()).newPage();
      provider.signingIn = 'dave';
      await other.goto(`${rw}/login`);
      await other.getByRole('link', { name: 'Sign in with SSO' }).click();
      await other.waitForURL((url) => url.origin === rw && url.pathname === '/admin/operations');
      expect(await other.getByTestId('not-found').innerText()).toMatch(
        /no such workspace, or you do not have access/,
      );

      // A failed sign-in lands on the login page with a message.
      await page.goto(`${rw}/api/auth/oidc/callback?code=x&state=forged`);
      await page.waitForURL((url) => url.pathname === '/login');
      await page.getByTestId('sso-error').waitFor();
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe('reading the role claim', () => {
  it('takes runwarden:<workspace>:<role> and runwarden:platform:<capability> from a list or a string; the most rights win', () => {
    const grants = parseOidcGrants([
      'runwarden:contoso:readonly',
      'runwarden:contoso:manager',
      'runwarden:platform:system.ops.triage runwarden:platform:system.ops.view',
      'runwarden:fabrikam:operator,runwarden:platform:system.ops.view',
      'engineering',
      'runwarden:contoso:superuser',
      'runwarden:platform:root',
      'runwarden:Bad Slug:owner',
      'runwarden:a:b:c',
      42,
    ]);
    expect(Object.fromEntries(grants.workspaces)).toEqual({
      contoso: 'manager',
      fabrikam: 'operator',
    });
    expect(grants.platform).toEqual(['system.ops.triage', 'system.ops.view']);
    expect(grants.ignored).toEqual([
      'runwarden:contoso:superuser',
      'runwarden:platform:root',
      'runwarden:Bad',
      'runwarden:a:b:c',
    ]);
    expect(parseOidcGrants('runwarden:contoso:owner').workspaces.get('contoso')).toBe('owner');
    expect(parseOidcGrants(undefined)).toEqual({
      workspaces: new Map(),
      platform: [],
      ignored: [],
    });
  });
});

describe('single sign-on configuration', () => {
  const full = {
    RUNWARDEN_OIDC_ISSUER: 'https://login.example.com',
    RUNWARDEN_OIDC_CLIENT_ID: 'runwarden',
    RUNWARDEN_OIDC_CLIENT_SECRET: 'shh',
  };
  it('is off by default, on with issuer, client id and secret (role claim default groups)', () => {
    expect(loadConfig({})).toMatchObject({ oidc: undefined, passwordLogin: true });
    expect(loadConfig({ ...full, RUNWARDEN_PASSWORD_LOGIN: 'false' })).toMatchObject({
      oidc: {
        ...{ issuer: full.RUNWARDEN_OIDC_ISSUER, clientId: 'runwarden' },
        roleClaim: 'groups',
      },
      passwordLogin: false,
    });
    expect(loadConfig({ ...full, RUNWARDEN_OIDC_ROLE_CLAIM: 'roles' }).oidc?.roleClaim).toBe(
      'roles',
    );
  });
  it('refuses half a configuration and bad values with a clear message', () => {
    expect(() => loadConfig({ RUNWARDEN_OIDC_ISSUER: full.RUNWARDEN_OIDC_ISSUER })).toThrow(
      /RUNWARDEN_OIDC_ISSUER, RUNWARDEN_OIDC_CLIENT_ID and RUNWARDEN_OIDC_CLIENT_SECRET go together/,
    );
    expect(() => loadConfig({ ...full, RUNWARDEN_OIDC_ISSUER: 'login.example.com' })).toThrow(
      /RUNWARDEN_OIDC_ISSUER: must be the issuer URL/,
    );
    expect(() => loadConfig({ RUNWARDEN_PASSWORD_LOGIN: 'no' })).toThrow(
      /RUNWARDEN_PASSWORD_LOGIN/,
    );
  });
});
