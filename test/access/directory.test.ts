import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDirectory, type Directory, directoryManaged } from '../../src/access/directory.js';
import { DIRECTORY_CHANNEL } from '../../src/access/directory-announce.js';
import { verifyPassword } from '../../src/access/passwords.js';
import { redeemToken } from '../../src/access/tokens.js';
import { RunwardenError } from '../../src/domain/errors.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';

let t: TestDatabase;
let dir: Directory;

beforeAll(async () => {
  t = await freshDatabase();
  dir = createDirectory({ db: t.db, publicUrl: 'https://ops.example.com/' });
});

/** Every directory table's rows, to prove a refused call wrote nothing. */
async function snapshot() {
  const tables = [
    'workspaces',
    'tenants',
    'users',
    'memberships',
    'invites',
    'api_tokens',
    'sessions',
    'audit_log',
    'settings',
  ] as const;
  const out: Record<string, unknown> = {};
  for (const table of tables) out[table] = await t.db.selectFrom(table).selectAll().execute();
  return out;
}

/** The one-time token of an invite link (`…/invite/<token>`). */
const inviteToken = (url: string | undefined) => url?.split('/invite/')[1] ?? '';

async function refused(call: Promise<unknown>, code: string): Promise<RunwardenError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RunwardenError);
  expect((error as RunwardenError).code).toBe(code);
  return error as RunwardenError;
}

async function addSession(userId: string) {
  const sid = `sid-${Math.random()}`;
  await t.db
    .insertInto('sessions')
    .values({
      sid,
      user_id: userId,
      data: JSON.stringify({ userId }),
      expires_at: new Date(Date.now() + 3_600_000),
    })
    .execute();
  return sid;
}

describe('directory upserts', () => {
  it('creates, changes and leaves alone by the host keys, auditing each change with its source', async () => {
    const first = await dir.upsertWorkspace({ slug: 'acme', name: 'Acme' });
    expect(first.outcome).toBe('created');
    expect(await directoryManaged(t.db)).toBe(true);
    expect((await dir.upsertWorkspace({ slug: 'acme', name: 'Acme' })).outcome).toBe('unchanged');
    const renamed = await dir.upsertWorkspace({ slug: 'acme', name: 'Acme Corp' });
    expect(renamed.outcome).toBe('changed');
    expect(renamed.workspace.id).toBe(first.workspace.id);

    expect(
      (await dir.upsertTenant({ workspace: 'acme', slug: 'prod', name: 'Prod' })).outcome,
    ).toBe('created');
    expect(
      (await dir.upsertTenant({ workspace: 'acme', slug: 'dev', name: 'Dev', status: 'inactive' }))
        .tenant.status,
    ).toBe('inactive');
    // status omitted on update: unchanged
    const dev = await dir.upsertTenant({ workspace: 'acme', slug: 'dev', name: 'Dev' });
    expect(dev).toMatchObject({ outcome: 'unchanged', tenant: { status: 'inactive' } });

    const audit = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', 'like', 'workspace.%')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['workspace.created', 'workspace.changed']);
    expect(audit[1]?.details).toMatchObject({
      key: 'acme',
      source: 'library',
      name: { from: 'Acme', to: 'Acme Corp' },
    });
    expect(audit[1]?.actor_user_id).toBeNull();
  });

  it('creates a new member as a user with a lower-cased email and a one-time 7-day invite link', async () => {
    const added = await dir.upsertMember({
      workspace: 'acme',
      email: '  Alice@Example.COM ',
      name: 'Alice',
      role: 'owner',
      externalId: 'host-1',
    });
    expect(added.outcome).toBe('created');
    expect(added.member).toMatchObject({
      email: 'alice@example.com',
      role: 'owner',
      tenantIds: null,
    });
    expect(added.invite?.url).toMatch(/^https:\/\/ops\.example\.com\/invite\/rwi_[\w-]{40,}$/);
    const days = ((added.invite?.expiresAt.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
    // the token is stored only as its hash and never in the audit log
    const token = added.invite?.url.split('/').pop() as string;
    const stored = JSON.stringify(await snapshot());
    expect(stored).not.toContain(token);

    const again = await dir.upsertMember({
      workspace: 'acme',
      email: 'alice@example.com',
      role: 'owner',
    });
    expect(again).toMatchObject({ outcome: 'unchanged' });
    expect(again.invite).toBeUndefined();

    await dir.redeemInvite(token, 'correct horse battery');
    const user = await t.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'alice@example.com')
      .executeTakeFirstOrThrow();
    expect(await verifyPassword(user.password_hash as string, 'correct horse battery')).toBe(true);
    expect(user.external_id).toBe('host-1');
    await refused(dir.redeemInvite(token, 'another password'), 'invite_invalid');
  });

  it('restricts a member to tenants by slug; an unknown slug is refused and writes nothing', async () => {
    const bob = await dir.upsertMember({
      workspace: 'acme',
      email: 'bob@example.com',
      role: 'operator',
      tenants: ['prod'],
    });
    const prod = await t.db
      .selectFrom('tenants')
      .select('id')
      .where('slug', '=', 'prod')
      .executeTakeFirstOrThrow();
    expect(bob.member.tenantIds).toEqual([prod.id]);

    const before = await snapshot();
    const error = await refused(
      dir.upsertMember({
        workspace: 'acme',
        email: 'carol@example.com',
        role: 'operator',
        tenants: ['nope'],
      }),
      'validation_failed',
    );
    expect(error.message).toContain('no tenant nope in workspace acme');
    await refused(
      dir.upsertMember({ workspace: 'acme', email: 'not-an-email', role: 'operator' }),
      'validation_failed',
    );
    await refused(
      dir.upsertMember({ workspace: 'acme', email: 'x@example.com', role: 'boss' as never }),
      'validation_failed',
    );
    await refused(
      dir.upsertMember({ workspace: 'nowhere', email: 'x@example.com', role: 'readonly' }),
      'not_found',
    );
    expect(await snapshot()).toEqual(before);
  });

  it('removing a member revokes the tokens they created in that workspace only; their sessions stay', async () => {
    await dir.upsertWorkspace({ slug: 'other', name: 'Other' });
    await dir.upsertMember({ workspace: 'other', email: 'bob@example.com', role: 'owner' });
    await dir.upsertMember({ workspace: 'acme', email: 'bob@example.com', role: 'owner' });
    const here = await dir.createToken({
      workspace: 'acme',
      name: 'ci',
      role: 'operator',
      as: 'bob@example.com',
    });
    const there = await dir.createToken({
      workspace: 'other',
      name: 'ci',
      role: 'operator',
      as: 'bob@example.com',
    });
    const bobId = here.createdBy as string;
    const sid = await addSession(bobId);
    expect(await redeemToken(t.db, here.token)).toBeDefined();

    const result = await dir.removeMember({ workspace: 'acme', email: 'BOB@example.com' });
    expect(result.removed).toBe(true);
    expect(result.changes[0]).toMatchObject({
      action: 'removed',
      kind: 'member',
      key: 'acme/bob@example.com',
      details: { tokensRevoked: [here.id] },
    });
    expect(result.changes[0]?.details).not.toHaveProperty('sessionsEnded');
    // Signed in still: the next request finds no membership in acme, and other is untouched.
    expect(
      await t.db.selectFrom('sessions').select('sid').where('sid', '=', sid).execute(),
    ).toEqual([{ sid }]);
    expect(await redeemToken(t.db, here.token)).toBeUndefined();
    expect(await redeemToken(t.db, there.token)).toBeDefined();
    // idempotent
    expect((await dir.removeMember({ workspace: 'acme', email: 'bob@example.com' })).removed).toBe(
      false,
    );
  });

  it('refuses to remove or demote the last owner of a workspace (409), changing nothing', async () => {
    const before = await snapshot();
    const error = await refused(
      dir.removeMember({ workspace: 'acme', email: 'alice@example.com' }),
      'conflict',
    );
    expect(error.details).toMatchObject({ reason: 'last_owner', workspace: 'acme' });
    await refused(
      dir.upsertMember({ workspace: 'acme', email: 'alice@example.com', role: 'manager' }),
      'conflict',
    );
    expect(await snapshot()).toEqual(before);
  });

  it('disabling a user clears their password, ends sessions, revokes every token and voids invites', async () => {
    const bob = await t.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'bob@example.com')
      .executeTakeFirstOrThrow();
    const token = await dir.createToken({
      workspace: 'other',
      name: 'deploy',
      role: 'readonly',
      as: 'bob@example.com',
    });
    expect(token.createdBy).toBe(bob.id);
    await addSession(bob.id);
    const result = await dir.disableUser({ email: 'bob@example.com' });
    expect(result.disabled).toBe(true);
    const row = await t.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', bob.id)
      .executeTakeFirstOrThrow();
    expect(row.disabled_at).not.toBeNull();
    expect(row.password_hash).toBeNull();
    expect(
      await t.db.selectFrom('sessions').select('sid').where('user_id', '=', bob.id).execute(),
    ).toEqual([]);
    expect(await redeemToken(t.db, token.token)).toBeUndefined();
    expect(
      await t.db
        .selectFrom('api_tokens')
        .select('id')
        .where('created_by', '=', bob.id)
        .where('revoked_at', 'is', null)
        .execute(),
    ).toEqual([]);
    expect(
      await t.db.selectFrom('invites').select('token_hash').where('user_id', '=', bob.id).execute(),
    ).toEqual([]);
    expect((await dir.disableUser({ email: 'bob@example.com' })).disabled).toBe(false);

    // re-enabled without SQL: a new invite sets the password again
    const enabled = await dir.enableUser({ email: 'bob@example.com' });
    const link = enabled.invite?.url.split('/invite/')[1] as string;
    await dir.redeemInvite(link, 'bob is back again');
    const back = await t.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', bob.id)
      .executeTakeFirstOrThrow();
    expect(back.disabled_at).toBeNull();
    expect(await verifyPassword(back.password_hash as string, 'bob is back again')).toBe(true);
    expect((await dir.enableUser({ email: 'bob@example.com' })).invite).toBeUndefined();
  });

  it('never gives a token more rights than the member it acts for', async () => {
    await dir.upsertMember({ workspace: 'acme', email: 'reader@example.com', role: 'readonly' });
    await refused(
      dir.createToken({ workspace: 'acme', name: 'x', role: 'owner', as: 'reader@example.com' }),
      'validation_failed',
    );
    const ok = await dir.createToken({
      workspace: 'acme',
      name: 'x',
      role: 'readonly',
      as: 'reader@example.com',
    });
    expect(ok.token).toMatch(/^rwt_/);
  });

  it('revokes a token by id, idempotently; an unknown id is not found', async () => {
    const created = await dir.createToken({ workspace: 'acme', name: 'ops', role: 'manager' });
    expect(created.token).toMatch(/^rwt_/);
    expect((await dir.revokeToken({ workspace: 'acme', id: created.id })).revoked).toBe(true);
    expect(await redeemToken(t.db, created.token)).toBeUndefined();
    expect((await dir.revokeToken({ workspace: 'acme', id: created.id })).revoked).toBe(false);
    await refused(dir.revokeToken({ workspace: 'other', id: created.id }), 'not_found');
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('target_id', '=', created.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['token.created', 'token.revoked']);
    expect(JSON.stringify(audit)).not.toContain(created.token);
  });

  it('bootstraps the first platform admin once', async () => {
    const first = await dir.bootstrap({ email: 'Root@Example.com' });
    expect(first.invite?.url).toMatch(/\/invite\/rwi_/);
    const root = await t.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', first.userId)
      .executeTakeFirstOrThrow();
    expect(root.email).toBe('root@example.com');
    expect([...root.platform_capabilities].sort()).toEqual([
      'platform.directory',
      'system.ops.triage',
      'system.ops.view',
    ]);
    await refused(
      dir.bootstrap({ email: 'second@example.com', password: 'long enough' }),
      'conflict',
    );
    expect(
      await t.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', 'second@example.com')
        .execute(),
    ).toEqual([]);
  });

  it('sets platform staff capabilities exactly, refusing unknown ones', async () => {
    await dir.setPlatformStaff({ email: 'staff@example.com', capabilities: ['system.ops.view'] });
    await refused(
      dir.setPlatformStaff({ email: 'staff@example.com', capabilities: ['root' as never] }),
      'validation_failed',
    );
    const staff = await t.db
      .selectFrom('users')
      .select('platform_capabilities')
      .where('email', '=', 'staff@example.com')
      .executeTakeFirstOrThrow();
    expect(staff.platform_capabilities).toEqual(['system.ops.view']);
  });

  it('follows a person by externalId when the host changes their email; a clash is a 409', async () => {
    const moved = await dir.upsertMember({
      workspace: 'acme',
      email: 'alice.new@example.com',
      role: 'owner',
      externalId: 'host-1',
    });
    expect(moved.outcome).toBe('changed');
    expect(moved.member.email).toBe('alice.new@example.com');
    expect(
      await t.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', 'alice@example.com')
        .execute(),
    ).toEqual([]);
    await refused(
      dir.upsertMember({
        workspace: 'acme',
        email: 'reader@example.com',
        role: 'readonly',
        externalId: 'host-1',
      }),
      'conflict',
    );
  });

  it('serializes concurrent writers: five parallel upserts of one new person make one user and one membership', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        dir.upsertMember({ workspace: 'acme', email: 'race@example.com', role: 'operator' }),
      ),
    );
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.invite)).toHaveLength(1);
    const users = await t.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'race@example.com')
      .execute();
    expect(users).toHaveLength(1);
    const memberships = await t.db
      .selectFrom('memberships')
      .select('id')
      .where('user_id', '=', users[0]?.id as string)
      .execute();
    expect(memberships).toHaveLength(1);
  });
});

describe("a workspace owner's offered memberships (issue 20)", () => {
  const offers = (email: string) =>
    t.db
      .selectFrom('pending_memberships')
      .select(['email', 'role'])
      .where('email', '=', email)
      .execute();
  const member = (email: string) =>
    t.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.name', 'memberships.role'])
      .where('users.email', '=', email)
      .execute();

  it('an offer writes nothing of the account; the host directory supersedes it; removal withdraws it', async () => {
    await dir.upsertWorkspace({ slug: 'offers', name: 'Offers' });
    await dir.upsertMember({ workspace: 'offers', email: 'boss@example.com', role: 'owner' });
    await dir.upsertMember({
      workspace: 'acme',
      email: 'known@example.com',
      name: 'Known',
      role: 'operator',
    });
    const users = await t.db.selectFrom('users').selectAll().orderBy('id').execute();

    const offered = await dir.offerMember({
      workspace: 'offers',
      email: 'Known@Example.com',
      name: 'Other Name',
      role: 'manager',
    });
    expect(offered).toMatchObject({
      offered: true,
      member: { email: 'known@example.com', name: 'Other Name', role: 'manager', pending: true },
      invite: { url: expect.stringMatching(/\/invite\/rwm_/) },
    });
    expect(offered.changes.map((c) => `${c.kind}.${c.action}`)).toEqual(['invitation.created']);
    expect(await t.db.selectFrom('users').selectAll().orderBy('id').execute()).toEqual(users);
    expect(await member('known@example.com')).toEqual([{ name: 'Known', role: 'operator' }]);
    // Offered again: changed, no new link.
    const again = await dir.offerMember({
      workspace: 'offers',
      email: 'known@example.com',
      role: 'readonly',
    });
    expect(again).toMatchObject({ offered: false, member: { name: 'Other Name', pending: true } });
    expect(again).not.toHaveProperty('invite');

    // The host's own directory writes the membership directly: the offer goes.
    await dir.upsertMember({ workspace: 'offers', email: 'known@example.com', role: 'readonly' });
    expect(await offers('known@example.com')).toEqual([]);

    await dir.offerMember({ workspace: 'offers', email: 'new@example.com', role: 'readonly' });
    expect(await offers('new@example.com')).toHaveLength(1);
    expect(
      (await dir.removeMember({ workspace: 'offers', email: 'new@example.com' })).removed,
    ).toBe(true);
    expect(await offers('new@example.com')).toEqual([]);
  });

  /** Olivia owns `ws`; Otto offers `email` a place in it and accepts his own link. */
  async function madeThroughOffer(ws: string, email: string) {
    await dir.upsertWorkspace({ slug: ws, name: ws });
    await dir.upsertMember({ workspace: ws, email: `owner-of-${ws}@example.com`, role: 'owner' });
    const offered = await dir.offerMember({ workspace: ws, email, role: 'owner' });
    const token = inviteToken(offered.invite?.url);
    const accepted = await dir.acceptInvitation({
      token,
      newPassword: 'chosen by the link holder',
    });
    expect(accepted).toMatchObject({ accepted: true });
    const user = await t.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email)
      .executeTakeFirstOrThrow();
    expect(user.password_origin).toBe('offer');
    return user;
  }

  it('a password for an email that has an account is hashed, writes nothing and says accepted: false', async () => {
    await dir.upsertWorkspace({ slug: 'quiet', name: 'Quiet' });
    await dir.upsertMember({ workspace: 'quiet', email: 'quiet-boss@example.com', role: 'owner' });
    const offered = await dir.offerMember({
      workspace: 'quiet',
      email: 'known@example.com',
      role: 'owner',
    });
    const before = await snapshot();
    const answer = await dir.acceptInvitation({
      token: inviteToken(offered.invite?.url),
      newPassword: 'the link holder guesses',
    });
    expect(answer).toEqual({ accepted: false, changes: [], invites: [], dryRun: false });
    expect(await snapshot()).toEqual(before);
    expect(await offers('known@example.com')).toContainEqual({
      email: 'known@example.com',
      role: 'owner',
    });
  });

  it('an account an offer link made accepts no other offer: the platform must vouch for it first', async () => {
    const made = await madeThroughOffer('made-here', 'made@example.com');
    await dir.upsertWorkspace({ slug: 'elsewhere', name: 'Elsewhere' });
    await dir.upsertMember({ workspace: 'elsewhere', email: 'carl@example.com', role: 'owner' });
    const other = await dir.offerMember({
      workspace: 'elsewhere',
      email: 'made@example.com',
      role: 'owner',
    });
    const before = await snapshot();
    const error = await refused(
      dir.acceptInvitation({ token: inviteToken(other.invite?.url), userId: made.id }),
      'forbidden',
    );
    expect(error.message).toMatch(/single sign-on/);
    expect(await snapshot()).toEqual(before);
  });

  it("the directory writing a membership revokes an offer link's password, its sessions and person tokens, and hands out a link", async () => {
    const made = await madeThroughOffer('vouch-a', 'vouched@example.com');
    const sid = await addSession(made.id);
    const person = await dir.createToken({
      workspace: 'vouch-a',
      name: 'minted',
      role: 'owner',
      as: 'vouched@example.com',
    });
    const service = await dir.createToken({ workspace: 'vouch-a', name: 'svc', role: 'readonly' });
    // The owner changing the member within their workspace vouches for nobody.
    await dir.offerMember({ workspace: 'vouch-a', email: 'vouched@example.com', role: 'manager' });
    expect(await redeemToken(t.db, person.token)).toBeDefined();

    await dir.upsertWorkspace({ slug: 'vouch-b', name: 'Vouch B' });
    await dir.upsertMember({ workspace: 'vouch-b', email: 'b-boss@example.com', role: 'owner' });
    const added = await dir.upsertMember({
      workspace: 'vouch-b',
      email: 'vouched@example.com',
      role: 'owner',
    });
    expect(added.invite).toMatchObject({
      email: 'vouched@example.com',
      url: expect.stringMatching(/\/invite\/rwi_/),
    });
    expect(added.invites).toHaveLength(1);
    expect(added.changes).toContainEqual(
      expect.objectContaining({
        action: 'changed',
        kind: 'user',
        key: 'vouched@example.com',
        details: expect.objectContaining({
          password: 'revoked',
          sessionsEnded: 1,
          tokensRevoked: [person.id],
        }),
      }),
    );
    const after = await t.db
      .selectFrom('users')
      .select(['password_hash', 'password_origin'])
      .where('id', '=', made.id)
      .executeTakeFirstOrThrow();
    expect(after).toEqual({ password_hash: null, password_origin: null });
    expect(await t.db.selectFrom('sessions').where('sid', '=', sid).selectAll().execute()).toEqual(
      [],
    );
    expect(await redeemToken(t.db, person.token)).toBeUndefined();
    expect(await redeemToken(t.db, service.token)).toBeDefined();
    // Once is enough: the next directory write finds nothing to revoke and hands out no link.
    const again = await dir.upsertMember({
      workspace: 'vouch-b',
      email: 'vouched@example.com',
      role: 'manager',
    });
    expect(again.invites).toEqual([]);

    // An account whose password the platform set (an invite, the operator) is left as it is.
    const kept = await dir.upsertMember({
      workspace: 'vouch-a',
      email: 'b-boss@example.com',
      role: 'readonly',
    });
    expect(kept.changes.map((c) => `${c.kind}.${c.action}`)).toEqual(['member.created']);
  });

  it('redeeming a set-password link ends every session and person token of the account, and announces it', async () => {
    const made = await madeThroughOffer('redeem-a', 'redeemer@example.com');
    const sid = await addSession(made.id);
    const person = await dir.createToken({
      workspace: 'redeem-a',
      name: 'minted',
      role: 'owner',
      as: 'redeemer@example.com',
    });
    const service = await dir.createToken({ workspace: 'redeem-a', name: 'svc', role: 'readonly' });
    const { invite } = await dir.invite({ email: 'redeemer@example.com' });
    const listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.channel));
    await listener.query(`listen ${DIRECTORY_CHANNEL}`);
    try {
      await dir.redeemInvite(inviteToken(invite.url), 'the real person chose this');
      await until(() => heard.includes(DIRECTORY_CHANNEL), { what: 'the directory NOTIFY' });
    } finally {
      await listener.end();
    }
    expect(await t.db.selectFrom('sessions').where('sid', '=', sid).selectAll().execute()).toEqual(
      [],
    );
    expect(await redeemToken(t.db, person.token)).toBeUndefined();
    expect(await redeemToken(t.db, service.token)).toBeDefined();
    const audit = await t.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'invite.redeem')
      .where('target_id', '=', made.id)
      .executeTakeFirstOrThrow();
    expect(audit.details).toEqual({
      sessionsEnded: 1,
      tokensRevoked: [person.id],
      reason: 'whoever knew the previous password may have opened these sessions and tokens',
    });
    const user = await t.db
      .selectFrom('users')
      .select('password_origin')
      .where('id', '=', made.id)
      .executeTakeFirstOrThrow();
    expect(user.password_origin).toBe('invite');
  });
});
