import { beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { freshDatabase } from '../support/db.js';
import { Jar } from '../support/oidc-provider.js';
import { ssoServe } from '../support/sso-serve.js';

// Issue 20, items 1 and 2 (DESIGN §10: only the verified owner of an email holds a credential for
// it), replayed as the author did: a real `runwarden serve` with password login and SSO,
// a real OpenID provider, every step over HTTP.
//
// The attack: the owner of workspace acme adds victim@corp.test as a member, redeems the invite
// link they are shown and sets a password. Later the real victim signs in through SSO, whose role
// claim makes them owner of bravo. The attacker's password must not reach bravo.

const ATTACKER_PASSWORD = 'the attacker knows this one';
const t = await freshDatabase();
const directory = createDirectory({ db: t.db, publicUrl: 'http://unused.invalid' });
await directory.upsertWorkspace({ slug: 'acme', name: 'Acme' });
await directory.upsertWorkspace({ slug: 'bravo', name: 'Bravo' });
const attackerInvite = (
  await directory.upsertMember({ workspace: 'acme', email: 'mallory@evil.test', role: 'owner' })
).invites[0];
// Bravo has an owner of its own, so the victim's claim adds a second one.
await directory.upsertMember({ workspace: 'bravo', email: 'boss@corp.test', role: 'owner' });

const sso = await ssoServe(t.url, {
  victim: { email: 'victim@corp.test', name: 'Victim', groups: ['runwarden:bravo:owner'] },
  // Another identity at the provider that claims the victim's email.
  impostor: { email: 'victim@corp.test', name: 'Impostor', groups: ['runwarden:bravo:owner'] },
  second: { email: 'second@corp.test', name: 'Second', groups: ['runwarden:bravo:owner'] },
  // Really a member of acme too: the claim keeps the membership the attacker's token acts in.
  colleague: {
    email: 'colleague@corp.test',
    name: 'Colleague',
    groups: ['runwarden:acme:readonly', 'runwarden:bravo:owner'],
  },
  unverified: {
    email: 'unverified@corp.test',
    name: 'Unverified',
    groups: ['runwarden:bravo:owner'],
    email_verified: undefined,
  },
  unverifiedString: {
    email: 'unverified@corp.test',
    name: 'Unverified',
    groups: ['runwarden:bravo:owner'],
    email_verified: 'true',
  },
});
const { rw, provider } = sso;
const { send } = provider;

const { url } = sso;
const tokenOf = (invite: string) => invite.slice(invite.lastIndexOf('/') + 1);

async function passwordLogin(email: string, password: string) {
  const jar = new Jar();
  const answer = await send(url('/api/auth/login'), jar, {
    method: 'POST',
    body: { email, password },
  });
  const csrf = answer.status === 200 ? (JSON.parse(answer.body) as { csrfToken: string }) : null;
  return { status: answer.status, jar, csrf: csrf?.csrfToken ?? '' };
}

async function redeem(token: string, newPassword: string) {
  return await send(url('/api/auth/password'), new Jar(), {
    method: 'POST',
    body: { newPassword, inviteToken: token },
  });
}

async function workspacesOf(jar: Jar): Promise<string[] | number> {
  const answer = await send(url('/api/me'), jar);
  if (answer.status !== 200) return answer.status;
  const me = JSON.parse(answer.body) as { workspaces: Array<{ slug: string; role: string }> };
  return me.workspaces.map((w) => `${w.slug}:${w.role}`).sort();
}

async function ssoSignIn(who: string) {
  provider.signingIn = who;
  const jar = new Jar();
  const { landed } = await provider.follow(url('/api/auth/oidc/login'), jar, rw);
  return { jar, landed };
}

/**
 * The attacker, owner of acme, adds `email` (an offer, as owner), accepts the offer's link
 * themselves with a password of their choosing, which creates the account, signs in as `email`
 * and mints a person token there.
 */
async function preHijack(email: string) {
  const attacker = await passwordLogin('mallory@evil.test', ATTACKER_PASSWORD);
  expect(attacker.status).toBe(200);
  const added = await send(url(`/api/workspaces/acme/members/${email}`), attacker.jar, {
    method: 'PUT',
    body: { role: 'owner', tenantIds: null },
    headers: { 'x-csrf-token': attacker.csrf },
  });
  expect(added.status).toBe(201);
  const { invite } = JSON.parse(added.body) as { invite?: string };
  expect(invite).toBeDefined();
  const accepted = await send(url('/api/invitations/accept'), new Jar(), {
    method: 'POST',
    body: { token: tokenOf(invite ?? ''), newPassword: ATTACKER_PASSWORD },
  });
  expect(accepted.status).toBe(204);
  const asVictim = await passwordLogin(email, ATTACKER_PASSWORD);
  expect(asVictim.status).toBe(200);
  const minted = await send(url('/api/workspaces/acme/tokens'), asVictim.jar, {
    method: 'POST',
    body: { name: `minted as ${email}`, role: 'readonly' },
    headers: { 'x-csrf-token': asVictim.csrf },
  });
  expect(minted.status).toBe(201);
  const { token } = JSON.parse(minted.body) as { token: string };
  return { ...asVictim, token };
}

/** What the token answers for acme's operations (401 once revoked). */
async function tokenStatus(token: string): Promise<number> {
  const answer = await send(url('/api/workspaces/acme/operations'), new Jar(), {
    headers: { authorization: `Bearer ${token}` },
  });
  return answer.status;
}

beforeAll(async () => {
  expect(attackerInvite).toBeDefined();
  expect((await redeem(tokenOf(attackerInvite?.url ?? ''), ATTACKER_PASSWORD)).status).toBe(204);
});

describe('account pre-hijacking through an invite (issue 20, item 1)', () => {
  it("the victim's first SSO sign-in revokes the password the attacker set, and ends the attacker's session and tokens", async () => {
    const attacker = await preHijack('victim@corp.test');
    expect(await workspacesOf(attacker.jar)).toEqual(['acme:owner']);
    expect(await tokenStatus(attacker.token)).toBe(200);

    const victim = await ssoSignIn('victim');
    expect(victim.landed).toBe('/');
    expect(await workspacesOf(victim.jar)).toEqual(['bravo:owner']);

    // The attacker's session on the victim's account ended, the token they minted as the victim
    // is revoked, and the password is gone.
    expect(await workspacesOf(attacker.jar)).toBe(401);
    expect(await tokenStatus(attacker.token)).toBe(401);
    expect((await passwordLogin('victim@corp.test', ATTACKER_PASSWORD)).status).toBe(401);
    const row = await t.db
      .selectFrom('users')
      .select(['password_hash', 'oidc_issuer', 'oidc_subject'])
      .where('email', '=', 'victim@corp.test')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      password_hash: null,
      oidc_issuer: provider.issuer,
      oidc_subject: 'victim',
    });
    // The victim's own sign-in still works, the next time too.
    const again = await ssoSignIn('victim');
    expect(await workspacesOf(again.jar)).toEqual(['bravo:owner']);
  });

  it('changing the password with the current one before the victim arrives does not keep it', async () => {
    const attacker = await preHijack('second@corp.test');
    const changed = await send(url('/api/auth/password'), attacker.jar, {
      method: 'POST',
      body: { currentPassword: ATTACKER_PASSWORD, newPassword: 'changed by the attacker' },
      headers: { 'x-csrf-token': attacker.csrf },
    });
    expect(changed.status).toBe(204);

    const victim = await ssoSignIn('second');
    expect(await workspacesOf(victim.jar)).toEqual(['bravo:owner']);
    expect(await workspacesOf(attacker.jar)).toBe(401);
    expect((await passwordLogin('second@corp.test', 'changed by the attacker')).status).toBe(401);
  });

  it('the tokens the attacker minted as the victim are revoked, also where the claim keeps the membership', async () => {
    const attacker = await preHijack('colleague@corp.test');
    const victim = await ssoSignIn('colleague');
    expect(await workspacesOf(victim.jar)).toEqual(['acme:readonly', 'bravo:owner']);
    expect(await workspacesOf(attacker.jar)).toBe(401);
    expect(await tokenStatus(attacker.token)).toBe(401);
    const audit = await t.db
      .selectFrom('audit_log')
      .innerJoin('users', (join) =>
        join.on((eb) => eb('users.id', '=', eb.cast<string>('audit_log.target_id', 'uuid'))),
      )
      .select('audit_log.details')
      .where('audit_log.action', '=', 'user.sso_linked')
      .where('users.email', '=', 'colleague@corp.test')
      .executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({
      passwordRevoked: true,
      sessionsEnded: 1,
      tokensRevoked: [expect.any(String)],
    });
  });

  it('another identity at the provider with the same email is refused once the account is linked', async () => {
    const impostor = await ssoSignIn('impostor');
    expect(impostor.landed).toBe('/login?error=sso');
    expect(await workspacesOf(impostor.jar)).toBe(401);
    await sso.cli().waitFor(/sso sign-in failed/, 5_000);
    const row = await t.db
      .selectFrom('users')
      .select(['name', 'oidc_subject'])
      .where('email', '=', 'victim@corp.test')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ name: 'Victim', oidc_subject: 'victim' });
  });
});

describe('SSO needs email_verified: true (issue 20, item 2)', () => {
  let attacker: Awaited<ReturnType<typeof preHijack>>;
  beforeAll(async () => {
    attacker = await preHijack('unverified@corp.test');
  });

  it.each([
    ['left out', 'unverified'],
    ['the string "true"', 'unverifiedString'],
  ])(
    'email_verified %s does not sign in to the password account with that email',
    async (_name, who) => {
      const user = t.db.selectFrom('users').where('email', '=', 'unverified@corp.test');
      const before = await user.select('password_hash').executeTakeFirstOrThrow();
      const signIn = await ssoSignIn(who);
      expect(signIn.landed).toBe('/login?error=sso');
      expect(await workspacesOf(signIn.jar)).toBe(401);
      // Nothing changed: no membership of bravo, the password and its session as they were, no link.
      expect(await workspacesOf(attacker.jar)).toEqual(['acme:owner']);
      expect(await user.select('password_hash').executeTakeFirstOrThrow()).toEqual(before);
      expect(await user.select('oidc_subject').executeTakeFirstOrThrow()).toEqual({
        oidc_subject: null,
      });
    },
  );
});
