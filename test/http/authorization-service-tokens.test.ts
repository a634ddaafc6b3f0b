import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/domain/errors.js';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';
import { bearer, directoryOf, directoryStaff } from './directory-support.js';

// Service tokens (DESIGN §10, issue 20): a token made without a person acts for its workspace.
// Only platform staff (platform.directory) make one over HTTP; an owner's token is always theirs.
// A service token's role caps what it may do, in its workspace only; it is nobody in person.

const h = await apiHarness();
const directory = directoryOf(h);

const ACTORS = [
  'owner',
  'manager',
  'staff',
  'platform',
  'outsider',
  'anonymous',
  'ownerToken',
  'serviceOwner',
  'serviceOperator',
  'serviceReadonly',
  'serviceRevoked',
  'fabrikamService',
] as const;
type Actor = (typeof ACTORS)[number];
type Expect = Record<Actor, number>;
const callers = {} as Record<Actor, Caller | undefined>;

async function service(workspace: string, role: 'owner' | 'operator' | 'readonly', name: string) {
  const made = await directory.createToken({ workspace, name, role });
  return {
    id: made.id,
    caller: { name, headers: { authorization: `Bearer ${made.token}` } },
  };
}

beforeAll(async () => {
  for (const actor of ['owner', 'manager', 'outsider'] as const)
    callers[actor] = await h.login(`${actor}@demo.test`);
  callers.platform = await h.login('platform@demo.test');
  callers.staff = await directoryStaff(h);
  callers.anonymous = undefined;
  callers.ownerToken = await bearer(h, callers.owner as Caller, 'owner');
  callers.serviceOwner = (await service('contoso', 'owner', 'svc-owner')).caller;
  callers.serviceOperator = (await service('contoso', 'operator', 'svc-operator')).caller;
  callers.serviceReadonly = (await service('contoso', 'readonly', 'svc-readonly')).caller;
  const revoked = await service('contoso', 'owner', 'svc-revoked');
  await directory.revokeToken({ workspace: 'contoso', id: revoked.id });
  callers.serviceRevoked = revoked.caller;
  callers.fabrikamService = (await service('fabrikam', 'owner', 'svc-fabrikam')).caller;
});

// owner manager staff platform outsider anonymous ownerToken serviceOwner serviceOperator serviceReadonly serviceRevoked fabrikamService
const row = (...s: number[]): Expect =>
  Object.fromEntries(ACTORS.map((a, i) => [a, s[i]])) as Expect;
const C = '/api/workspaces/contoso';

const MATRIX: Array<{
  name: string;
  request: (a: Actor) => Promise<InjectOptions>;
  expect: Expect;
}> = [
  {
    name: 'POST /api/workspaces/:ws/tokens {service: true}',
    request: async (a) => ({
      method: 'POST',
      url: `${C}/tokens`,
      payload: { name: `service of ${a}`, role: 'operator', service: true },
    }),
    // Only platform.directory makes a service token; owners and tokens (of either kind) do not.
    expect: row(403, 403, 201, 404, 404, 401, 403, 403, 403, 403, 401, 404),
  },
  {
    name: 'POST /api/workspaces/:ws/tokens (a person token)',
    request: async (a) => ({
      method: 'POST',
      url: `${C}/tokens`,
      payload: { name: `person token of ${a}`, role: 'readonly' },
    }),
    // A service token is nobody, so it makes no person token; a manager lacks tokens.manage.
    expect: row(201, 403, 403, 404, 404, 401, 201, 403, 403, 403, 401, 404),
  },
  {
    name: 'GET /api/workspaces/:ws/tokens',
    request: async () => ({ method: 'GET', url: `${C}/tokens` }),
    expect: row(200, 403, 200, 404, 404, 401, 200, 200, 403, 403, 401, 404),
  },
  {
    name: 'DELETE /api/workspaces/:ws/tokens/:id (a service token)',
    request: async (a) => ({
      method: 'DELETE',
      url: `${C}/tokens/${(await service('contoso', 'readonly', `to revoke by ${a}`)).id}`,
    }),
    expect: row(204, 403, 204, 404, 404, 401, 204, 204, 403, 403, 401, 404),
  },
  {
    name: 'POST /api/workspaces/:ws/operations (prod)',
    request: async (a) => ({
      method: 'POST',
      url: `${C}/operations`,
      payload: { type: 'demo.sleep', tenantId: h.ids.prod, input: { seconds: 60, tag: a } },
    }),
    // The role caps it: a readonly service token starts nothing.
    expect: row(202, 202, 404, 404, 404, 401, 202, 202, 202, 403, 401, 404),
  },
  {
    name: 'GET /api/workspaces/:ws/operations',
    request: async () => ({ method: 'GET', url: `${C}/operations` }),
    expect: row(200, 200, 404, 404, 404, 401, 200, 200, 200, 200, 401, 404),
  },
  {
    name: 'GET /api/notifications',
    request: async () => ({ method: 'GET', url: '/api/notifications' }),
    expect: row(200, 200, 200, 200, 200, 401, 200, 200, 200, 200, 401, 200),
  },
  {
    name: 'POST /api/auth/password {currentPassword}',
    request: async () => ({
      method: 'POST',
      url: '/api/auth/password',
      payload: { currentPassword: DEMO_PASSWORD, newPassword: DEMO_PASSWORD },
    }),
    expect: row(204, 204, 204, 204, 204, 401, 403, 403, 403, 403, 401, 403),
  },
  {
    name: 'GET /api/system/audit',
    request: async () => ({ method: 'GET', url: '/api/system/audit' }),
    expect: row(404, 404, 403, 200, 404, 401, 404, 404, 404, 404, 401, 404),
  },
];

const codeOf = (status: number) =>
  Object.entries(ERROR_CATALOG).find(([, e]) => e.status === status)?.[0];

describe('service tokens: routes × callers', () => {
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

describe('what a service token is', () => {
  it('is listed as a service with no person behind it, and /api/me names it, not a person', async () => {
    const made = await h.request(callers.staff, {
      method: 'POST',
      url: `${C}/tokens`,
      payload: { name: 'nightly-export', role: 'readonly', service: true },
    });
    expect(made.statusCode, made.body).toBe(201);
    const { id, token, kind } = made.json() as { id: string; token: string; kind: string };
    expect(kind).toBe('service');
    const listed = await h.request(callers.owner, { url: `${C}/tokens` });
    const item = listed.json().items.find((t: { id: string }) => t.id === id);
    expect(item).toMatchObject({ name: 'nightly-export', kind: 'service', createdBy: null });
    expect(JSON.stringify(listed.json())).not.toContain(token);
    // Audited as made by the staff member, and its own actions as `service:<name>`.
    const me = await h.request(
      { name: 'svc', headers: { authorization: `Bearer ${token}` } },
      {
        url: '/api/me',
      },
    );
    expect(me.statusCode).toBe(200);
    expect(me.json().user).toEqual({ id, email: '', name: 'nightly-export' });
    expect(
      me.json().workspaces.map((w: { slug: string; role: string }) => [w.slug, w.role]),
    ).toEqual([['contoso', 'readonly']]);
    expect(me.json().platform.capabilities).toEqual([]);
  });

  it("an owner's token is theirs: person kind, created by them, even when they ask for a service", async () => {
    const asked = await h.request(callers.owner, {
      method: 'POST',
      url: `${C}/tokens`,
      payload: { name: 'mine', role: 'readonly' },
    });
    expect(asked.json().kind).toBe('person');
    const row = await h.db
      .selectFrom('api_tokens')
      .select(['kind', 'created_by'])
      .where('id', '=', asked.json().id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ kind: 'person', created_by: callers.owner?.userId });
    const refused = await h.request(callers.owner, {
      method: 'POST',
      url: `${C}/tokens`,
      payload: { name: 'not mine', role: 'readonly', service: true },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toMatch(/platform staff/i);
  });
});
