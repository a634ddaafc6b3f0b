import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/domain/errors.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';
import { bearer, directoryOf, directoryStaff, inviteTokenOf } from './directory-support.js';

// The authorization matrix of the directory routes (DESIGN §10, §11; issue #12): every route ×
// every kind of caller. Not entitled to see the workspace → 404; entitled but lacking the
// capability → 403; anonymous → 401. Beside authorization.test.ts, which covers the run routes.

const h = await apiHarness();
const directory = directoryOf(h);

const ACTORS = [
  'owner',
  'manager',
  'operator',
  'readonly',
  'restricted',
  'restrictedOwner',
  'staff',
  'platform',
  'outsider',
  'anonymous',
  'ownerToken',
  'readonlyToken',
  'pending',
] as const;
type Actor = (typeof ACTORS)[number];
type Expect = Record<Actor, number>;
const callers = {} as Record<Actor, Caller | undefined>;
let pendingLink = '';

beforeAll(async () => {
  for (const actor of ['owner', 'manager', 'operator', 'readonly', 'restricted', 'outsider'])
    callers[actor as Actor] = await h.login(`${actor}@demo.test`);
  callers.platform = await h.login('platform@demo.test');
  callers.staff = await directoryStaff(h);
  // An owner restricted to one tenant: the directory is workspace-wide, beyond their restriction.
  const added = await directory.upsertMember({
    workspace: 'contoso',
    email: 'restricted-owner@demo.test',
    role: 'owner',
    tenants: ['contoso-dev'],
  });
  const set = await h.request(undefined, {
    method: 'POST',
    url: '/api/auth/password',
    payload: { inviteToken: inviteTokenOf(added.invite?.url), newPassword: DEMO_PASSWORD },
  });
  expect(set.statusCode).toBe(204);
  callers.restrictedOwner = await h.login('restricted-owner@demo.test');
  callers.anonymous = undefined;
  callers.ownerToken = await bearer(h, callers.owner as Caller, 'owner');
  callers.readonlyToken = await bearer(h, callers.owner as Caller, 'readonly');
  // Offered contoso's owner role by its owner and not accepted: it grants nothing (DESIGN §10).
  const elsewhere = await directory.upsertMember({
    workspace: 'fabrikam',
    email: 'pending@demo.test',
    role: 'readonly',
  });
  await directory.redeemInvite(inviteTokenOf(elsewhere.invite?.url), DEMO_PASSWORD);
  const offered = await h.request(callers.owner, {
    method: 'PUT',
    url: `${C}/members/pending@demo.test`,
    payload: { role: 'owner', tenantIds: null },
  });
  expect(offered.statusCode, offered.body).toBe(201);
  pendingLink = inviteTokenOf(offered.json().invite);
  callers.pending = await h.login('pending@demo.test');
});

// owner manager operator readonly restricted restrictedOwner staff platform outsider anonymous ownerToken readonlyToken pending
const row = (...s: number[]): Expect =>
  Object.fromEntries(ACTORS.map((a, i) => [a, s[i]])) as Expect;
/** A workspace route only its owners (and platform.directory staff) may use. */
const manage = (ok: number, staff = ok) =>
  row(ok, 403, 403, 403, 403, 403, staff, 404, 404, 401, ok, 403, 404);
const key = (actor: Actor) => actor.toLowerCase();
const C = '/api/workspaces/contoso';

const MATRIX: Array<{
  name: string;
  request: (a: Actor) => Promise<InjectOptions>;
  expect: Expect;
}> = [
  {
    name: 'POST /api/workspaces',
    request: async (a) => ({
      method: 'POST',
      url: '/api/workspaces',
      payload: { slug: `ws-${key(a)}`, name: `Workspace of ${a}` },
    }),
    expect: row(404, 404, 404, 404, 404, 404, 201, 403, 404, 401, 404, 404, 404),
  },
  {
    name: 'GET /api/workspaces/:ws/tenants',
    request: async () => ({ method: 'GET', url: `${C}/tenants` }),
    expect: manage(200),
  },
  {
    name: 'PUT /api/workspaces/:ws/tenants/:slug',
    request: async (a) => ({
      method: 'PUT',
      url: `${C}/tenants/t-${key(a)}`,
      payload: { name: `Tenant of ${a}` },
    }),
    expect: manage(201),
  },
  {
    name: 'GET /api/workspaces/:ws/members',
    request: async () => ({ method: 'GET', url: `${C}/members` }),
    expect: manage(200),
  },
  {
    name: 'PUT /api/workspaces/:ws/members/:email',
    request: async (a) => ({
      method: 'PUT',
      url: `${C}/members/m-${key(a)}@demo.test`,
      payload: { role: 'readonly', tenantIds: null },
    }),
    expect: manage(201),
  },
  {
    name: 'DELETE /api/workspaces/:ws/members/:userId',
    request: async (a) => {
      const { member } = await directory.upsertMember({
        workspace: 'contoso',
        email: `gone-${key(a)}@demo.test`,
        role: 'readonly',
      });
      return { method: 'DELETE', url: `${C}/members/${member.userId}` };
    },
    expect: manage(204),
  },
  {
    // Tenancy is a boundary (issue 20): adding someone who has an account elsewhere answers as for
    // a new email; the follow-up test checks their account was not touched.
    name: 'PUT /api/workspaces/:ws/members/:email of a member of another workspace',
    request: async (a) => {
      await directory.upsertMember({
        workspace: 'fabrikam',
        email: `theirs-${key(a)}@demo.test`,
        name: 'Fay Fabrikam',
        role: 'readonly',
      });
      return {
        method: 'PUT',
        url: `${C}/members/theirs-${key(a)}@demo.test`,
        payload: { role: 'owner', tenantIds: null, name: `Renamed by ${a}` },
      };
    },
    expect: manage(201),
  },
  {
    name: 'PUT /api/workspaces/:ws/members/:email of a platform staff account',
    request: async (a) => {
      await directory.setPlatformStaff({
        email: `ops-${key(a)}@demo.test`,
        name: 'Sam Staff',
        capabilities: ['system.ops.triage'],
      });
      return {
        method: 'PUT',
        url: `${C}/members/ops-${key(a)}@demo.test`,
        payload: { role: 'owner', tenantIds: null, name: `Renamed by ${a}` },
      };
    },
    expect: manage(201),
  },
  {
    // Not a member here: nothing to remove (their Fabrikam membership is not contoso's business).
    name: 'DELETE /api/workspaces/:ws/members/:userId of a member of another workspace',
    request: async () => ({ method: 'DELETE', url: `${C}/members/${callers.outsider?.userId}` }),
    expect: manage(404),
  },
  {
    name: 'POST /api/workspaces/:ws/tokens',
    request: async (a) => ({
      method: 'POST',
      url: `${C}/tokens`,
      payload: { name: `token of ${a}`, role: 'readonly' },
    }),
    // Staff see the workspace's tokens but a token acts for a member, which they are not.
    expect: manage(201, 403),
  },
  {
    name: 'GET /api/workspaces/:ws/tokens',
    request: async () => ({ method: 'GET', url: `${C}/tokens` }),
    expect: manage(200),
  },
  {
    name: 'DELETE /api/workspaces/:ws/tokens/:id',
    request: async (a) => {
      const { id } = await directory.createToken({
        workspace: 'contoso',
        name: `revoked by ${a}`,
        role: 'readonly',
        as: 'owner@demo.test',
      });
      return { method: 'DELETE', url: `${C}/tokens/${id}` };
    },
    expect: manage(204),
  },
  {
    name: 'POST /api/auth/password {currentPassword}',
    request: async () => ({
      method: 'POST',
      url: '/api/auth/password',
      payload: { currentPassword: DEMO_PASSWORD, newPassword: DEMO_PASSWORD },
    }),
    // Your own password, from a signed-in session: an API token may not change it.
    expect: row(204, 204, 204, 204, 204, 204, 204, 204, 204, 401, 403, 403, 204),
  },
  {
    name: 'POST /api/auth/password {inviteToken}',
    request: async (a) => {
      const added = await directory.upsertMember({
        workspace: 'fabrikam',
        email: `invited-${key(a)}@demo.test`,
        role: 'readonly',
      });
      return {
        method: 'POST',
        url: '/api/auth/password',
        payload: { inviteToken: inviteTokenOf(added.invite?.url), newPassword: DEMO_PASSWORD },
      };
    },
    // The one-time token is the credential: whoever holds it sets the password.
    expect: row(204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204),
  },
];

const codeOf = (status: number) =>
  Object.entries(ERROR_CATALOG).find(([, e]) => e.status === status)?.[0];

describe('directory authorization matrix: every directory route × every kind of caller', () => {
  for (const entry of MATRIX) {
    it(entry.name, async () => {
      const got = {} as Expect;
      for (const actor of ACTORS) {
        const res = await h.request(callers[actor], await entry.request(actor));
        got[actor] = res.statusCode;
        if (res.statusCode >= 400) {
          expect(Object.keys(res.json()), `${actor}: ${res.body}`).toEqual(['error']);
          expect(res.json().error.code, `${actor}: ${res.body}`).toBe(codeOf(res.statusCode));
        }
      }
      expect(got).toEqual(entry.expect);
    });
  }
});

describe('deny as not found, for the directory', () => {
  it("answers an outsider's (and a pending member's) request for a real workspace byte-for-byte like a missing one", async () => {
    const routes: Array<[InjectOptions['method'], string, object?]> = [
      ['GET', 'tenants'],
      ['PUT', 'tenants/qa', { name: 'QA' }],
      ['GET', 'members'],
      ['PUT', 'members/x@demo.test', { role: 'readonly', tenantIds: null }],
      ['DELETE', `members/${callers.owner?.userId}`],
      ['POST', 'tokens', { name: 'x', role: 'readonly' }],
      ['GET', 'tokens'],
      ['DELETE', `tokens/${uuidv7()}`],
    ];
    for (const who of [callers.outsider, callers.pending])
      for (const [method, path, payload] of routes) {
        const ask = (ws: string) =>
          h.request(who, {
            method,
            url: `/api/workspaces/${ws}/${path}`,
            ...(payload ? { payload } : {}),
          });
        const real = await ask('contoso');
        const missing = await ask('nowhere');
        expect([method, path, real.statusCode]).toEqual([method, path, 404]);
        expect(real.body, `${method} ${path}`).toBe(missing.body);
      }
  });
});

describe("a workspace owner and other workspaces' people (issue 20)", () => {
  const account = (email: string) =>
    h.db
      .selectFrom('users')
      .leftJoin('memberships', (j) =>
        j
          .onRef('memberships.user_id', '=', 'users.id')
          .on('memberships.workspace_id', '=', h.ids.contoso),
      )
      .select(['users.name', 'memberships.role'])
      .where('users.email', '=', email)
      .executeTakeFirstOrThrow();

  it("an owner's adds (session or token) touch no account and grant nothing; staff's are authoritative", async () => {
    for (const a of ['owner', 'ownerToken'] as const) {
      expect(await account(`theirs-${key(a)}@demo.test`)).toEqual({
        name: 'Fay Fabrikam',
        role: null,
      });
      expect(await account(`ops-${key(a)}@demo.test`)).toEqual({ name: 'Sam Staff', role: null });
    }
    expect(await account('theirs-staff@demo.test')).toEqual({
      name: 'Renamed by staff',
      role: 'owner',
    });
    const list = await h.request(callers.owner, { url: `${C}/members` });
    expect(list.json().items).toContainEqual({
      userId: expect.any(String),
      email: 'theirs-owner@demo.test',
      name: 'Renamed by owner',
      role: 'owner',
      tenantIds: null,
      disabled: false,
      pending: true,
    });
  });

  it('a pending member holds nothing until they accept, signed in as themselves', async () => {
    const me = await h.request(callers.pending, { url: '/api/me' });
    expect(me.json().workspaces.map((w: { slug: string }) => w.slug)).toEqual(['fabrikam']);
    const accept = (c: Caller | undefined) =>
      h.request(c, {
        method: 'POST',
        url: '/api/invitations/accept',
        payload: { token: pendingLink },
      });
    // The owner holds the link but cannot accept it for them; a token cannot; nor can nobody.
    expect((await accept(callers.owner)).statusCode).toBe(403);
    expect((await accept(callers.ownerToken)).statusCode).toBe(403);
    expect((await accept(undefined)).statusCode).toBe(401);
    expect((await accept(callers.pending)).statusCode).toBe(204);
    const after = await h.request(callers.pending, { url: '/api/me' });
    expect(
      after.json().workspaces.map((w: { slug: string; role: string }) => `${w.slug}:${w.role}`),
    ).toEqual(['contoso:owner', 'fabrikam:readonly']);
  });
});

describe('a tenant-restricted owner', () => {
  it('cannot lift their own restriction, and /api/me offers them no management', async () => {
    const lift = await h.request(callers.restrictedOwner, {
      method: 'PUT',
      url: `${C}/members/restricted-owner@demo.test`,
      payload: { role: 'owner', tenantIds: null },
    });
    expect(lift.statusCode, lift.body).toBe(403);
    const membership = await h.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select('memberships.tenant_ids')
      .where('users.email', '=', 'restricted-owner@demo.test')
      .executeTakeFirstOrThrow();
    expect(membership.tenant_ids).toEqual([h.ids.dev]);
    const me = await h.request(callers.restrictedOwner, { url: '/api/me' });
    const contoso = me.json().workspaces.find((w: { slug: string }) => w.slug === 'contoso');
    expect(contoso).toMatchObject({
      role: 'owner',
      tenants: [expect.objectContaining({ slug: 'contoso-dev' })],
    });
    expect(contoso.tenants).toHaveLength(1);
    expect(contoso.capabilities).toEqual([
      'operations.view',
      'operations.start',
      'operations.cancel',
    ]);
  });
});

describe("a token never has more than its creator's role now", () => {
  it("an owner's owner-role token, after the owner is demoted, acts as what they are now", async () => {
    const added = await directory.upsertMember({
      workspace: 'contoso',
      email: 'second-owner@demo.test',
      role: 'owner',
    });
    const set = await h.request(undefined, {
      method: 'POST',
      url: '/api/auth/password',
      payload: { inviteToken: inviteTokenOf(added.invite?.url), newPassword: DEMO_PASSWORD },
    });
    expect(set.statusCode).toBe(204);
    const token = await bearer(h, await h.login('second-owner@demo.test'), 'owner');
    const promote = (email: string) =>
      h.request(token, {
        method: 'PUT',
        url: `${C}/members/${email}`,
        payload: { role: 'owner', tenantIds: null },
      });
    expect((await promote('readonly@demo.test')).statusCode).toBe(200);
    await directory.upsertMember({
      workspace: 'contoso',
      email: 'readonly@demo.test',
      role: 'readonly',
    });
    // Demoted: the token they made as an owner must not win their rights back.
    await directory.upsertMember({
      workspace: 'contoso',
      email: 'second-owner@demo.test',
      role: 'readonly',
    });
    const me = await h.request(token, { url: '/api/me' });
    expect(me.statusCode).toBe(200);
    expect(me.json().workspaces[0]).toMatchObject({ slug: 'contoso', role: 'readonly' });
    const again = await promote('second-owner@demo.test');
    expect(again.statusCode, again.body).toBe(403);
    const list = await h.request(token, { url: `${C}/tokens` });
    expect(list.statusCode).toBe(403);
  });
});
