import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/access/passwords.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { cancelRun } from '../../src/execution/cancel.js';
import { startRun } from '../../src/execution/start.js';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';

// The directory routes (tenants, members, tokens, workspaces, passwords) have their own matrix,
// with more kinds of caller: authorization-directory.test.ts.
const h = await apiHarness();

const ACTORS = [
  'owner',
  'manager',
  'operator',
  'readonly',
  'restricted',
  'outsider',
  'platform',
  'anonymous',
  'token',
  'disabled',
] as const;
type Actor = (typeof ACTORS)[number];
type Expect = Record<Actor, number>;

const callers = {} as Record<Actor, Caller | undefined>;
let prodRun: string;
let devRun: string;
let failedRun: string;
let externalRun: string;
/** A workspace-level run (no tenant), active for the whole file. */
let workspaceRun: string;
const WORKSPACE_TYPE = 'review_pack.generate';

async function queuedRun(
  tenantId: string | null,
  tag: string,
  type = 'demo.sleep',
  input?: object,
) {
  const { run } = await startRun(h, {
    type,
    workspaceId: h.ids.contoso,
    tenantId,
    input: input ?? { seconds: 60, tag },
    initiatorUserId: await h.userId('owner@demo.test'),
  });
  return run.id;
}

/** Cancels the active workspace-level run with this input, so the next start creates one. */
async function noActiveRun(input: object) {
  const active = await h.db
    .selectFrom('operation_runs')
    .select('id')
    .where('type', '=', WORKSPACE_TYPE)
    .where('status', 'in', ['queued', 'running'])
    .where(sql<boolean>`input = ${JSON.stringify(input)}::jsonb`)
    .execute();
  for (const { id } of active) await cancelRun(h, id, { userId: null });
}

/** A contoso operator who signed in and was then disabled (only the flag: the backstop). */
async function disabledCaller(): Promise<Caller> {
  const id = uuidv7();
  await h.db
    .insertInto('users')
    .values({
      id,
      email: 'disabled@demo.test',
      name: 'Disabled',
      password_hash: await hashPassword(DEMO_PASSWORD),
    })
    .execute();
  await h.db
    .insertInto('memberships')
    .values({
      id: uuidv7(),
      workspace_id: h.ids.contoso,
      user_id: id,
      role: 'operator',
      tenant_ids: null,
    })
    .execute();
  const caller = await h.login('disabled@demo.test');
  await h.db.updateTable('users').set({ disabled_at: new Date() }).where('id', '=', id).execute();
  return caller;
}

beforeAll(async () => {
  for (const actor of [
    'owner',
    'manager',
    'operator',
    'readonly',
    'restricted',
    'outsider',
    'platform',
  ] as const) {
    callers[actor] = await h.login(`${actor}@demo.test`);
  }
  callers.anonymous = undefined;
  const created = await h.request(callers.owner, {
    method: 'POST',
    url: '/api/workspaces/contoso/tokens',
    payload: { name: 'matrix', role: 'operator' },
  });
  callers.token = { name: 'token', headers: { authorization: `Bearer ${created.json().token}` } };
  callers.disabled = await disabledCaller();
  prodRun = await queuedRun(h.ids.prod, 'prod');
  devRun = await queuedRun(h.ids.dev, 'dev');
  failedRun = await queuedRun(h.ids.prod, 'failed');
  await h.runs.complete(failedRun, {
    outcome: 'failed',
    failures: [{ code: 'handler.error', message: 'boom' }],
  });
  externalRun = await queuedRun(h.ids.prod, 'ext', 'restore.execute', { restoreRunId: 'r-1' });
  workspaceRun = await queuedRun(null, 'ws', WORKSPACE_TYPE, { scope: 'all' });
});

//                         owner manager operator readonly restricted outsider platform anonymous token disabled
const row = (...s: number[]): Expect =>
  Object.fromEntries(ACTORS.map((a, i) => [a, s[i]])) as Expect;

const MATRIX: Array<{
  name: string;
  request: (actor: Actor) => Promise<InjectOptions>;
  expect: Expect;
}> = [
  {
    name: 'GET /api/me',
    request: async () => ({ method: 'GET', url: '/api/me' }),
    expect: row(200, 200, 200, 200, 200, 200, 200, 401, 200, 401),
  },
  {
    name: 'GET /api/operation-types',
    request: async () => ({ method: 'GET', url: '/api/operation-types' }),
    expect: row(200, 200, 200, 200, 200, 200, 200, 401, 200, 401),
  },
  {
    name: 'GET /api/workspaces/contoso/operations',
    request: async () => ({ method: 'GET', url: '/api/workspaces/contoso/operations' }),
    expect: row(200, 200, 200, 200, 200, 404, 404, 401, 200, 401),
  },
  {
    name: 'GET /api/workspaces/contoso/operations?tenantId=prod',
    request: async () => ({
      method: 'GET',
      url: `/api/workspaces/contoso/operations?tenantId=${h.ids.prod}`,
    }),
    expect: row(200, 200, 200, 200, 404, 404, 404, 401, 200, 401),
  },
  {
    name: 'GET /api/workspaces/contoso/operations/summary',
    request: async () => ({ method: 'GET', url: '/api/workspaces/contoso/operations/summary' }),
    expect: row(200, 200, 200, 200, 200, 404, 404, 401, 200, 401),
  },
  {
    name: 'GET /api/operations/:id (prod run)',
    request: async () => ({ method: 'GET', url: `/api/operations/${prodRun}` }),
    expect: row(200, 200, 200, 200, 404, 404, 404, 401, 200, 401),
  },
  {
    name: 'GET /api/operations/:id (dev run)',
    request: async () => ({ method: 'GET', url: `/api/operations/${devRun}` }),
    expect: row(200, 200, 200, 200, 200, 404, 404, 401, 200, 401),
  },
  {
    name: 'POST /api/workspaces/contoso/operations (prod)',
    request: async (actor) => ({
      method: 'POST',
      url: '/api/workspaces/contoso/operations',
      payload: {
        type: 'demo.sleep',
        tenantId: h.ids.prod,
        input: { seconds: 60, tag: `start-${actor}` },
      },
    }),
    expect: row(202, 202, 202, 403, 404, 404, 404, 401, 202, 401),
  },
  {
    name: 'POST /api/workspaces/contoso/operations (workspace-level, a new run)',
    request: async () => {
      await noActiveRun({ scope: 'changed' });
      return {
        method: 'POST',
        url: '/api/workspaces/contoso/operations',
        payload: { type: WORKSPACE_TYPE, input: { scope: 'changed' } },
      };
    },
    expect: row(202, 202, 202, 403, 404, 404, 404, 401, 202, 401),
  },
  {
    name: "POST /api/workspaces/contoso/operations (workspace-level, reusing the owner's active run)",
    request: async () => ({
      method: 'POST',
      url: '/api/workspaces/contoso/operations',
      payload: { type: WORKSPACE_TYPE, tenantId: null, input: { scope: 'all' } },
    }),
    expect: row(202, 202, 202, 403, 404, 404, 404, 401, 202, 401),
  },
  {
    name: 'GET /api/operations/:id (workspace-level run)',
    request: async () => ({ method: 'GET', url: `/api/operations/${workspaceRun}` }),
    expect: row(200, 200, 200, 200, 404, 404, 404, 401, 200, 401),
  },
  {
    name: 'POST /api/operations/:id/cancel (workspace-level run)',
    request: async (actor) => ({
      method: 'POST',
      url: `/api/operations/${await queuedRun(null, actor, WORKSPACE_TYPE, { scope: 'changed' })}/cancel`,
    }),
    expect: row(200, 200, 403, 403, 404, 404, 404, 401, 403, 401),
  },
  {
    name: 'POST /api/operations/:id/cancel',
    request: async (actor) => ({
      method: 'POST',
      url: `/api/operations/${await queuedRun(h.ids.prod, `cancel-${actor}`)}/cancel`,
    }),
    expect: row(200, 200, 403, 403, 404, 404, 404, 401, 403, 401),
  },
  {
    name: 'POST /api/workspaces/contoso/tokens',
    request: async () => ({
      method: 'POST',
      url: '/api/workspaces/contoso/tokens',
      payload: { name: 'x', role: 'readonly' },
    }),
    expect: row(201, 403, 403, 403, 403, 404, 404, 401, 403, 401),
  },
  {
    name: 'POST /api/operations/:id/heartbeat (external run)',
    request: async () => ({ method: 'POST', url: `/api/operations/${externalRun}/heartbeat` }),
    expect: row(403, 403, 403, 403, 404, 404, 404, 401, 200, 401),
  },
  {
    name: 'GET /api/notifications',
    request: async () => ({ method: 'GET', url: '/api/notifications' }),
    expect: row(200, 200, 200, 200, 200, 200, 200, 401, 200, 401),
  },
  ...(['stuck', 'failures'] as const).map((page) => ({
    name: `GET /api/system/ops/${page}`,
    request: async () => ({ method: 'GET' as const, url: `/api/system/ops/${page}` }),
    expect: row(404, 404, 404, 404, 404, 404, 200, 401, 404, 401),
  })),
  {
    name: 'GET /api/system/ops/runs/:id',
    request: async () => ({ method: 'GET', url: `/api/system/ops/runs/${prodRun}` }),
    expect: row(404, 404, 404, 404, 404, 404, 200, 401, 404, 401),
  },
  {
    name: 'GET /api/system/audit',
    request: async () => ({ method: 'GET', url: '/api/system/audit' }),
    expect: row(404, 404, 404, 404, 404, 404, 200, 401, 404, 401),
  },
  {
    name: 'POST /api/system/ops/runs/:id/retry',
    request: async () => ({ method: 'POST', url: `/api/system/ops/runs/${failedRun}/retry` }),
    expect: row(404, 404, 404, 404, 404, 404, 202, 401, 404, 401),
  },
  {
    name: 'POST /api/system/ops/runs/:id/mark-reviewed',
    request: async () => ({
      method: 'POST',
      url: `/api/system/ops/runs/${failedRun}/mark-reviewed`,
    }),
    expect: row(404, 404, 404, 404, 404, 404, 200, 401, 404, 401),
  },
  {
    name: 'POST /api/system/ops/runs/:id/cancel',
    request: async (actor) => ({
      method: 'POST',
      url: `/api/system/ops/runs/${await queuedRun(h.ids.prod, `sys-cancel-${actor}`)}/cancel`,
    }),
    expect: row(404, 404, 404, 404, 404, 404, 200, 401, 404, 401),
  },
  {
    name: 'GET /api/stream?workspace=contoso (denials only; the stream itself is tested over a socket)',
    request: async () => ({ method: 'GET', url: '/api/stream?workspace=contoso' }),
    expect: row(0, 0, 0, 0, 0, 404, 404, 401, 0, 401),
  },
];

describe('authorization matrix: every endpoint × every kind of caller', () => {
  for (const entry of MATRIX) {
    it(entry.name, async () => {
      const got = {} as Expect;
      for (const actor of ACTORS) {
        if (entry.expect[actor] === 0) {
          got[actor] = 0;
          continue;
        }
        const res = await h.request(callers[actor], await entry.request(actor));
        got[actor] = res.statusCode;
        if (res.statusCode >= 400) {
          expect(Object.keys(res.json())).toEqual(['error']);
        }
      }
      expect(got).toEqual(entry.expect);
    });
  }
});

describe('deny as not found', () => {
  it("answers an outsider's request for a real run byte-for-byte like a random id", async () => {
    const real = await h.request(callers.outsider, {
      method: 'GET',
      url: `/api/operations/${prodRun}`,
    });
    const missing = await h.request(callers.outsider, {
      method: 'GET',
      url: `/api/operations/${uuidv7()}`,
    });
    expect(real.statusCode).toBe(404);
    expect(real.body).toBe(missing.body);
    expect(real.headers['content-type']).toBe(missing.headers['content-type']);
    expect(real.headers['content-length']).toBe(missing.headers['content-length']);
  });

  it('answers a hidden workspace like a missing one, and a hidden tenant like a missing one', async () => {
    const hidden = await h.request(callers.outsider, {
      method: 'GET',
      url: '/api/workspaces/contoso/operations',
    });
    const missing = await h.request(callers.outsider, {
      method: 'GET',
      url: '/api/workspaces/nowhere/operations',
    });
    expect(hidden.body).toBe(missing.body);
    const hiddenTenant = await h.request(callers.restricted, {
      method: 'GET',
      url: `/api/workspaces/contoso/operations/summary?tenantId=${h.ids.prod}`,
    });
    const missingTenant = await h.request(callers.restricted, {
      method: 'GET',
      url: `/api/workspaces/contoso/operations/summary?tenantId=${uuidv7()}`,
    });
    expect(hiddenTenant.statusCode).toBe(404);
    expect(hiddenTenant.body).toBe(missingTenant.body);
  });

  it('shows a tenant-restricted member only their tenants, in lists, summaries and notifications', async () => {
    const list = await h.request(callers.restricted, {
      method: 'GET',
      url: '/api/workspaces/contoso/operations?limit=200',
    });
    const tenants = new Set(
      (list.json().items as Array<{ tenantId: string }>).map((r) => r.tenantId),
    );
    expect([...tenants]).toEqual([h.ids.dev]);
    const ids = (list.json().items as Array<{ id: string }>).map((r) => r.id);
    expect(ids).not.toContain(workspaceRun);
    const all = await h.request(callers.owner, {
      method: 'GET',
      url: '/api/workspaces/contoso/operations/summary',
    });
    const mine = await h.request(callers.restricted, {
      method: 'GET',
      url: '/api/workspaces/contoso/operations/summary',
    });
    expect(mine.json().activeFresh).toBeLessThan(all.json().activeFresh);
  });

  it("answers a tenant-restricted member's start of a workspace-level run like one with no active run: never the owner's run", async () => {
    const start = (scope: 'all' | 'changed') =>
      h.request(callers.restricted, {
        method: 'POST',
        url: '/api/workspaces/contoso/operations',
        payload: { type: WORKSPACE_TYPE, input: { scope } },
      });
    const reused = await start('all');
    await noActiveRun({ scope: 'changed' });
    const fresh = await start('changed');
    expect(reused.statusCode).toBe(404);
    expect(reused.body).toBe(fresh.body);
    expect(reused.body).not.toContain(workspaceRun);
    const started = await h.db
      .selectFrom('operation_runs')
      .select('id')
      .where('initiator_user_id', '=', callers.restricted?.userId as string)
      .where('tenant_id', 'is', null)
      .execute();
    expect(started).toEqual([]);
  });
});
