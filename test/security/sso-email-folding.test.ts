import { describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { foldsSafely } from '../../src/access/directory-input.js';
import { freshDatabase } from '../support/db.js';
import { Jar } from '../support/oidc-provider.js';
import { ssoServe } from '../support/sso-serve.js';

// Found attacking the fix of issue 20: an email that only becomes another person's when
// lower-cased (the Kelvin sign `K` is `k` in lower case) signed in to that person's account through
// SSO, linked it to the attacker's identity, renamed it and took its memberships away.

const t = await freshDatabase();
const directory = createDirectory({ db: t.db, publicUrl: 'http://unused.invalid' });
await directory.upsertWorkspace({ slug: 'bravo', name: 'Bravo' });
await directory.upsertMember({ workspace: 'bravo', email: 'boss@corp.test', role: 'owner' });
await directory.upsertMember({
  workspace: 'bravo',
  email: 'kim@corp.test',
  name: 'Kim',
  role: 'owner',
});

const sso = await ssoServe(t.url, {
  kelvin: { email: '\u212Aim@corp.test', name: 'Evil', groups: [] },
  fullwidth: { email: '\uFF4Bim@corp.test', name: 'Evil', groups: [] },
  kim: { email: 'Kim@corp.test', name: 'Kim', groups: ['runwarden:bravo:owner'] },
});
const { rw, provider } = sso;

const kim = t.db
  .selectFrom('users')
  .select(['name', 'oidc_subject'])
  .where('email', '=', 'kim@corp.test');

async function ssoSignIn(who: string) {
  provider.signingIn = who;
  const jar = new Jar();
  const { landed } = await provider.follow(new URL('/api/auth/oidc/login', rw), jar, rw);
  const me = await provider.send(new URL('/api/me', rw), jar);
  return { landed, me: me.status };
}

describe('an SSO email that folds onto another address (issue 20, found in review)', () => {
  it.each([
    ['the Kelvin sign', 'kelvin'],
    ['a full-width letter', 'fullwidth'],
  ])('with %s signs in to nobody and changes nothing of kim@corp.test', async (_name, who) => {
    const before = await kim.executeTakeFirstOrThrow();
    const signIn = await ssoSignIn(who);
    expect(signIn).toEqual({ landed: '/login?error=sso', me: 401 });
    expect(await kim.executeTakeFirstOrThrow()).toEqual(before);
    const memberships = await t.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select('memberships.role')
      .where('users.email', '=', 'kim@corp.test')
      .execute();
    expect(memberships).toEqual([{ role: 'owner' }]);
    const accounts = await t.db
      .selectFrom('users')
      .select('email')
      .where('email', 'like', '%im@corp.test')
      .execute();
    expect(accounts).toEqual([{ email: 'kim@corp.test' }]);
  });

  it('the real Kim still signs in, with her own identity linked', async () => {
    const signIn = await ssoSignIn('kim');
    expect(signIn).toEqual({ landed: '/', me: 200 });
    expect(await kim.executeTakeFirstOrThrow()).toEqual({ name: 'Kim', oidc_subject: 'kim' });
  });
});

describe('foldsSafely', () => {
  it.each([
    'kim@corp.test',
    'Kim@Corp.Test',
    'élodie@corp.test',
    'Élodie@corp.test',
    'ßtraße@corp.test',
  ])('keeps %s', (email) => expect(foldsSafely(email)).toBe(true));
  it.each([
    '\u212Aim@corp.test', // Kelvin sign → k
    '\u0130nfo@corp.test', // İ → i + combining dot
    '\uFF4Bim@corp.test', // full-width k
    '\u212Bngstrom@corp.test', // Ångström sign → Å (NFKC)
  ])('refuses %s', (email) => expect(foldsSafely(email)).toBe(false));
});
