import { describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { metricsNote } from '../../src/cli/api.js';
import { freshDatabase } from '../support/db.js';
import { Jar } from '../support/oidc-provider.js';
import { ssoServe } from '../support/sso-serve.js';

// Issue 20, item 4 (DESIGN §10: anonymous requests cost at most one indexed read): a visitor who
// starts a sign-in, fails one or tries invite tokens writes no row (throttle counters aside: they
// are the throttle), on a real `runwarden serve` with SSO and password login.

const t = await freshDatabase();
const directory = createDirectory({ db: t.db, publicUrl: 'http://unused.invalid' });
await directory.upsertWorkspace({ slug: 'acme', name: 'Acme' });
const invite = (
  await directory.upsertMember({ workspace: 'acme', email: 'new@acme.test', role: 'readonly' })
).invites[0];
// An owner's offer of another workspace to an email that has an account (new@acme.test's).
await directory.upsertWorkspace({ slug: 'bravo', name: 'Bravo' });
const offer = (
  await directory.offerMember({ workspace: 'bravo', email: 'new@acme.test', role: 'operator' })
).invites[0];

const sso = await ssoServe(t.url, {
  erin: { email: 'erin@example.com', name: 'Erin', groups: [] },
});
const { provider } = sso;
provider.signingIn = 'erin';
const { send } = provider;
const { url } = sso;

/** Rows an anonymous visitor must not add (login_throttle is left out: it is the throttle). */
async function rows(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['sessions', 'audit_log', 'users', 'invites', 'memberships'] as const) {
    const { n } = await t.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(n);
  }
  return counts;
}

function setCookies(jar: Jar, name: string) {
  return jar.cookies.filter((c) => c.name === name);
}

describe('anonymous visitors write no row (issue 20, item 4)', () => {
  it('starting a sign-in writes nothing: its state is a sealed, HTTP-only, Lax cookie for the callback only, for 10 minutes', async () => {
    const before = await rows();
    for (let i = 0; i < 5; i++) {
      const jar = new Jar();
      const started = await send(url('/api/auth/oidc/login?returnTo=%2Fruns'), jar);
      expect(started.status).toBe(302);
      expect(setCookies(jar, 'runwarden_session')).toEqual([]);
      const [pending] = setCookies(jar, 'runwarden_oidc');
      expect(pending?.path).toBe('/api/auth/oidc/callback');
      // Nothing of the sign-in can be read from the cookie: not its state, not its return path.
      const state = new URL(started.location ?? '').searchParams.get('state') ?? '';
      const clear = Buffer.from(pending?.value ?? '', 'base64url').toString('latin1');
      expect(clear).not.toContain(state);
      expect(clear).not.toContain('/runs');
    }
    expect(await rows()).toEqual(before);

    const raw = await fetch(url('/api/auth/oidc/login'), { redirect: 'manual' });
    const line = raw.headers.getSetCookie().find((c) => c.startsWith('runwarden_oidc=')) ?? '';
    expect(line).toMatch(/; Max-Age=600(;|$)/);
    expect(line).toMatch(/; Path=\/api\/auth\/oidc\/callback(;|$)/);
    expect(line).toMatch(/; HttpOnly(;|$)/);
    expect(line).toMatch(/; SameSite=Lax(;|$)/);
  });

  it('a state cookie changed by one character is refused at the callback, and nothing is written', async () => {
    const jar = new Jar();
    const started = await send(url('/api/auth/oidc/login'), jar);
    const state = new URL(started.location ?? '').searchParams.get('state') ?? '';
    const pending = setCookies(jar, 'runwarden_oidc')[0];
    if (!pending) throw new Error('no state cookie');
    const last = pending.value.at(-2) === 'A' ? 'B' : 'A';
    pending.value = `${pending.value.slice(0, -2)}${last}${pending.value.slice(-1)}`;
    const before = await rows();
    const callback = await send(
      url(
        `/api/auth/oidc/callback?code=x&state=${state}&iss=${encodeURIComponent(provider.issuer)}`,
      ),
      jar,
    );
    expect(callback).toMatchObject({ status: 302, location: '/login?error=sso' });
    // Spent either way: the browser drops it.
    expect(setCookies(jar, 'runwarden_oidc')).toEqual([]);
    expect(await rows()).toEqual(before);
  });

  it('a refused password login writes no session and no audit row', async () => {
    const before = await rows();
    for (const email of ['new@acme.test', 'nobody@acme.test']) {
      const jar = new Jar();
      const refused = await send(url('/api/auth/login'), jar, {
        method: 'POST',
        body: { email, password: 'not the password' },
      });
      expect(refused.status).toBe(401);
      expect(jar.cookies).toEqual([]);
    }
    expect(await rows()).toEqual(before);
  });

  it('invite redemption is throttled per client address like logins, before the invite is looked up', async () => {
    const before = await rows();
    const tries: number[] = [];
    for (let i = 0; i < 10; i++) {
      const answer = await send(url('/api/auth/password'), new Jar(), {
        method: 'POST',
        body: { newPassword: 'a guess at a token', inviteToken: `rwi_guess-${i}` },
      });
      tries.push(answer.status);
    }
    expect(tries).toEqual(Array(10).fill(400));
    // The eleventh within the minute is refused, even with a real invite: it stays unspent.
    const real = await send(url('/api/auth/password'), new Jar(), {
      method: 'POST',
      body: { newPassword: 'the real new password', inviteToken: invite?.url.split('/').at(-1) },
    });
    expect(real.status).toBe(429);
    expect(JSON.parse(real.body)).toMatchObject({ error: { code: 'rate_limited' } });
    expect(await rows()).toEqual(before);
    const user = await t.db
      .selectFrom('users')
      .select('password_hash')
      .where('email', '=', 'new@acme.test')
      .executeTakeFirstOrThrow();
    expect(user.password_hash).toBeNull();
  });
});

describe('accepting an offer with a password (issue 20 review, F1)', () => {
  it('is throttled per client address like logins, also when the email has an account (answered as a success)', async () => {
    const before = await rows();
    const token = offer?.url.split('/').at(-1);
    const tries: number[] = [];
    for (let i = 0; i < 11; i++) {
      const answer = await send(url('/api/invitations/accept'), new Jar(), {
        method: 'POST',
        body: { token, newPassword: `a password to try ${i}` },
      });
      tries.push(answer.status);
    }
    // Ten answers like a new account's (nothing written: the email has one), then the throttle.
    expect(tries).toEqual([...Array(10).fill(204), 429]);
    expect(await rows()).toEqual(before);
    const pending = await t.db
      .selectFrom('pending_memberships')
      .select('email')
      .where('email', '=', 'new@acme.test')
      .execute();
    expect(pending).toEqual([{ email: 'new@acme.test' }]);
  });
});

describe('/metrics is open without a token, and serve says so (issue 20, item 5)', () => {
  it('the startup line names it; with RUNWARDEN_METRICS_TOKEN it says nothing of the kind', async () => {
    const line = await sso.cli().waitFor(/listening on/);
    expect(line).toContain('/metrics is open to anyone who can reach it');
    expect(line).toContain('RUNWARDEN_METRICS_TOKEN');
    expect((await fetch(url('/metrics'))).status).toBe(200);
    expect(metricsNote({ metricsToken: 'a-long-enough-metrics-token' })).toBe('');
  });
});
