import { beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';

// Directory and access management over HTTP (DESIGN §10, §11): who may do what, 404 for outsiders,
// 409 for the last owner, invites redeemed once, removal ending sessions and tokens at once.
const h = await apiHarness();
const directory = createDirectory({ db: h.db, publicUrl: 'https://ops.example.com' });
const callers = {} as Record<'owner' | 'operator' | 'outsider' | 'platform' | 'admin', Caller>;

beforeAll(async () => {
  const staff = await directory.setPlatformStaff({
    email: 'dir-admin@demo.test',
    capabilities: ['platform.directory'],
  });
  expect(staff.invites).toHaveLength(1);
  const token = staff.invites[0]?.url.split('/invite/')[1];
  const redeemed = await h.request(undefined, {
    method: 'POST',
    url: '/api/auth/password',
    payload: { inviteToken: token, newPassword: DEMO_PASSWORD },
  });
  expect(redeemed.statusCode, redeemed.body).toBe(204);
  callers.admin = await h.login('dir-admin@demo.test');
  callers.owner = await h.login('owner@demo.test');
  callers.operator = await h.login('operator@demo.test');
  callers.outsider = await h.login('outsider@demo.test');
  callers.platform = await h.login('platform@demo.test');
});

async function count(table: 'workspaces' | 'tenants' | 'users' | 'memberships' | 'api_tokens') {
  const row = await h.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('POST /api/workspaces', () => {
  it('needs platform.directory: 404 for members, 403 for other platform staff; 201 then 200', async () => {
    const body = { slug: 'initech', name: 'Initech' };
    const post = (c: Caller | undefined, payload: object = body) =>
      h.request(c, { method: 'POST', url: '/api/workspaces', payload });
    expect((await post(undefined)).statusCode).toBe(401);
    expect((await post(callers.owner)).statusCode).toBe(404);
    expect((await post(callers.platform)).statusCode).toBe(403);
    const before = await count('workspaces');
    const bad = await post(callers.admin, { slug: 'Not A Slug', name: 'X' });
    expect(bad.statusCode).toBe(400);
    expect(await count('workspaces')).toBe(before);
    const created = await post(callers.admin);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject(body);
    expect((await post(callers.admin)).statusCode).toBe(200);
  });

  it('platform staff give a new workspace its first owner, who redeems the invite once and logs in', async () => {
    const put = await h.request(callers.admin, {
      method: 'PUT',
      url: '/api/workspaces/initech/members/Peter@Initech.example',
      payload: { role: 'owner', tenantIds: null, name: 'Peter' },
    });
    expect(put.statusCode, put.body).toBe(201);
    const { member, invite } = put.json() as { member: { email: string }; invite: string };
    expect(member.email).toBe('peter@initech.example');
    expect(invite).toMatch(/^https?:\/\/[^/]+\/invite\/rwi_/);
    const inviteToken = invite.split('/invite/')[1];
    const redeem = () =>
      h.request(undefined, {
        method: 'POST',
        url: '/api/auth/password',
        payload: { inviteToken, newPassword: DEMO_PASSWORD },
      });
    expect((await redeem()).statusCode).toBe(204);
    expect((await redeem()).statusCode).toBe(400);
    const peter = await h.login('peter@initech.example');
    const again = await h.request(peter, {
      method: 'PUT',
      url: '/api/workspaces/initech/members/peter@initech.example',
      payload: { role: 'owner', tenantIds: null },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).not.toHaveProperty('invite');
  });
});

describe('tenants', () => {
  it('owners create and update tenants by slug; operators 403; outsiders 404; bad input 400', async () => {
    const put = (c: Caller, payload: object, slug = 'contoso-staging', ws = 'contoso') =>
      h.request(c, { method: 'PUT', url: `/api/workspaces/${ws}/tenants/${slug}`, payload });
    expect((await put(callers.outsider, { name: 'Staging' })).statusCode).toBe(404);
    expect((await put(callers.operator, { name: 'Staging' })).statusCode).toBe(403);
    const before = await count('tenants');
    expect((await put(callers.owner, { name: 'Staging', status: 'paused' })).statusCode).toBe(400);
    expect((await put(callers.owner, { name: 'Staging' }, 'Bad Slug')).statusCode).toBe(400);
    expect(await count('tenants')).toBe(before);
    const created = await put(callers.owner, { name: 'Staging' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ slug: 'contoso-staging', status: 'active' });
    const updated = await put(callers.owner, { name: 'Staging', status: 'inactive' });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ status: 'inactive' });
    const list = await h.request(callers.owner, { url: '/api/workspaces/contoso/tenants' });
    expect(list.json().items.map((t: { slug: string }) => t.slug)).toContain('contoso-staging');
    expect(
      (await h.request(callers.outsider, { url: '/api/workspaces/contoso/tenants' })).statusCode,
    ).toBe(404);
    const audit = await h.db
      .selectFrom('audit_log')
      .select(['actor_user_id', 'actor_kind', 'details'])
      .where('action', '=', 'tenant.deactivated')
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({
      actor_user_id: callers.owner.userId,
      actor_kind: 'user',
      details: {
        key: 'contoso/contoso-staging',
        source: 'http',
        status: { from: 'active', to: 'inactive' },
      },
    });
    // platform staff with platform.directory manage any workspace
    expect((await put(callers.admin, { name: 'Staging 2' })).statusCode).toBe(200);
  });
});

describe('members', () => {
  it('adds a tenant-restricted member; a tenant of another workspace is refused and writes nothing', async () => {
    const before = await count('users');
    const foreign = await h.request(callers.owner, {
      method: 'PUT',
      url: '/api/workspaces/contoso/members/newbie@demo.test',
      payload: { role: 'operator', tenantIds: [h.ids.fabrikamProd] },
    });
    expect(foreign.statusCode).toBe(400);
    expect(await count('users')).toBe(before);
    const added = await h.request(callers.owner, {
      method: 'PUT',
      url: '/api/workspaces/contoso/members/newbie@demo.test',
      payload: { role: 'operator', tenantIds: [h.ids.dev] },
    });
    expect(added.statusCode).toBe(201);
    const list = await h.request(callers.owner, { url: '/api/workspaces/contoso/members' });
    expect(list.json().items).toContainEqual(
      expect.objectContaining({
        email: 'newbie@demo.test',
        role: 'operator',
        tenantIds: [h.ids.dev],
        disabled: false,
      }),
    );
    expect(
      (await h.request(callers.operator, { url: '/api/workspaces/contoso/members' })).statusCode,
    ).toBe(403);
    expect(
      (await h.request(callers.outsider, { url: '/api/workspaces/contoso/members' })).statusCode,
    ).toBe(404);
  });

  it('removing a member revokes their tokens here at once (401); their session stays, without the workspace', async () => {
    const operatorId = callers.operator.userId as string;
    const token = await directory.createToken({
      workspace: 'contoso',
      name: 'operator-ci',
      role: 'operator',
      as: 'operator@demo.test',
    });
    const bearer = { name: 'token', headers: { authorization: `Bearer ${token.token}` } };
    expect((await h.request(bearer, { url: '/api/me' })).statusCode).toBe(200);
    expect((await h.request(callers.operator, { url: '/api/me' })).statusCode).toBe(200);

    const removed = await h.request(callers.owner, {
      method: 'DELETE',
      url: `/api/workspaces/contoso/members/${operatorId}`,
    });
    expect(removed.statusCode).toBe(204);
    const me = await h.request(callers.operator, { url: '/api/me' });
    expect(me.statusCode).toBe(200);
    expect(me.json().workspaces).toEqual([]);
    expect(
      (await h.request(callers.operator, { url: '/api/workspaces/contoso/operations' })).statusCode,
    ).toBe(404);
    expect((await h.request(bearer, { url: '/api/me' })).statusCode).toBe(401);
    const again = await h.request(callers.owner, {
      method: 'DELETE',
      url: `/api/workspaces/contoso/members/${operatorId}`,
    });
    expect(again.statusCode).toBe(404);
  });

  it('refuses to remove the last owner (409), changing nothing', async () => {
    const ownerId = callers.owner.userId as string;
    const before = await count('memberships');
    const res = await h.request(callers.admin, {
      method: 'DELETE',
      url: `/api/workspaces/contoso/members/${ownerId}`,
    });
    expect(res.statusCode).toBe(409);
    expect(await count('memberships')).toBe(before);
    expect((await h.request(callers.owner, { url: '/api/me' })).statusCode).toBe(200);
  });
});

describe('tokens', () => {
  it('lists tokens without their secrets and revokes one at once; outsiders 404', async () => {
    const created = await h.request(callers.owner, {
      method: 'POST',
      url: '/api/workspaces/contoso/tokens',
      payload: { name: 'deploy', role: 'operator' },
    });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json() as { id: string; token: string };
    const bearer = { name: 'token', headers: { authorization: `Bearer ${token}` } };
    expect((await h.request(bearer, { url: '/api/me' })).statusCode).toBe(200);

    const list = await h.request(callers.owner, { url: '/api/workspaces/contoso/tokens' });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(token);
    expect(list.json().items).toContainEqual(
      expect.objectContaining({ id, name: 'deploy', role: 'operator', revokedAt: null }),
    );
    expect(
      (await h.request(callers.outsider, { url: '/api/workspaces/contoso/tokens' })).statusCode,
    ).toBe(404);
    expect(
      (
        await h.request(callers.outsider, {
          method: 'DELETE',
          url: `/api/workspaces/contoso/tokens/${id}`,
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await h.request(callers.owner, {
          method: 'DELETE',
          url: `/api/workspaces/fabrikam/tokens/${id}`,
        })
      ).statusCode,
    ).toBe(404);

    const revoked = await h.request(callers.owner, {
      method: 'DELETE',
      url: `/api/workspaces/contoso/tokens/${id}`,
    });
    expect(revoked.statusCode).toBe(204);
    expect((await h.request(bearer, { url: '/api/me' })).statusCode).toBe(401);
    const after = await h.request(callers.owner, { url: '/api/workspaces/contoso/tokens' });
    expect(after.json().items.find((t: { id: string }) => t.id === id).revokedAt).not.toBeNull();
  });
});

describe('POST /api/auth/password', () => {
  it('changes your own password with the current one; a wrong one is 403; bad bodies are 400', async () => {
    const readonly = await h.login('readonly@demo.test');
    const post = (c: Caller | undefined, payload: object) =>
      h.request(c, { method: 'POST', url: '/api/auth/password', payload });
    expect(
      (await post(readonly, { newPassword: 'short', currentPassword: DEMO_PASSWORD })).statusCode,
    ).toBe(400);
    expect((await post(readonly, { newPassword: 'long enough now' })).statusCode).toBe(400);
    expect(
      (await post(undefined, { newPassword: 'long enough now', currentPassword: DEMO_PASSWORD }))
        .statusCode,
    ).toBe(401);
    expect(
      (await post(readonly, { newPassword: 'long enough now', currentPassword: 'wrong' }))
        .statusCode,
    ).toBe(403);
    expect(
      (await post(readonly, { newPassword: 'long enough now', currentPassword: DEMO_PASSWORD }))
        .statusCode,
    ).toBe(204);
    const login = await h.request(undefined, {
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'readonly@demo.test', password: 'long enough now' },
    });
    expect(login.statusCode).toBe(200);
    expect(
      (await post(undefined, { newPassword: 'long enough now', inviteToken: 'rwi_not-a-real-one' }))
        .statusCode,
    ).toBe(400);
  });

  it('signs out every other session of the person; the one it was changed from stays', async () => {
    const here = await h.login('operator@demo.test');
    const elsewhere = await h.login('operator@demo.test');
    const me = (c: Caller) => h.request(c, { method: 'GET', url: '/api/me' });
    expect((await me(elsewhere)).statusCode).toBe(200);
    const changed = await h.request(here, {
      method: 'POST',
      url: '/api/auth/password',
      payload: { currentPassword: DEMO_PASSWORD, newPassword: 'a brand new password' },
    });
    expect(changed.statusCode).toBe(204);
    expect((await me(here)).statusCode).toBe(200);
    expect((await me(elsewhere)).statusCode).toBe(401);
  });
});
