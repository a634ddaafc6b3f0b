import { beforeAll, describe, expect, it } from 'vitest';
import type { RunwardenClient } from '../../src/client/index.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { flowHarness } from '../http/flow-support.js';
import type { Caller } from '../support/http.js';
import {
  type Answer,
  changesNothing,
  refused,
  send,
  tokenFor,
  withoutCsrf,
} from './attack-support.js';

// Attacks on fleet operations (issue 22, DESIGN §10 "tenancy is a boundary", §19) over real HTTP
// and PostgreSQL: other workspaces' people and tokens, a tenant-restricted member, a read-only
// member, a removed member and cross-site requests. Each refusal is the catalog's answer and
// writes nothing (runs, children, jobs, audit).

const h = await flowHarness();
const callers = {} as Record<
  | 'owner'
  | 'readonly'
  | 'outsider'
  | 'outsiderToken'
  | 'fabrikamService'
  | 'devOnly'
  | 'devOnlyToken'
  | 'leaver'
  | 'leaverToken',
  Caller
>;
let owner: RunwardenClient;
let n = 0;

beforeAll(async () => {
  callers.owner = await h.login('owner@demo.test');
  callers.readonly = await h.login('readonly@demo.test');
  callers.outsider = await h.login('outsider@demo.test');
  callers.outsiderToken = await tokenFor(h, {
    workspace: 'fabrikam',
    name: 'outsider-owner',
    role: 'owner',
    as: 'outsider@demo.test',
  });
  callers.fabrikamService = await tokenFor(h, {
    workspace: 'fabrikam',
    name: 'fabrikam-bot',
    role: 'owner',
  });
  callers.devOnly = await h.member('dev-only@demo.test', 'manager', [h.ids.dev]);
  callers.devOnlyToken = await tokenFor(h, {
    workspace: 'contoso',
    name: 'dev-only-token',
    role: 'manager',
    as: 'dev-only@demo.test',
  });
  callers.leaver = await h.member('leaver@demo.test', 'manager', null);
  callers.leaverToken = await tokenFor(h, {
    workspace: 'contoso',
    name: 'leaver-token',
    role: 'manager',
    as: 'leaver@demo.test',
  });
  owner = h.as(callers.owner);
});

const call = (
  caller: Caller | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> => send(h.base, caller, method, path, body === undefined ? {} : { body });

const fleetBody = (tenants: 'all' | string[] = 'all') => ({
  type: 'policy.sync_one',
  tenants,
  input: { policyId: `fleet-attack-${++n}` },
});

async function startFleet(tenants: 'all' | string[] = 'all') {
  const started = await owner.POST('/api/workspaces/{ws}/fleet-operations', {
    params: { path: { ws: 'contoso' } },
    body: fleetBody(tenants),
  });
  const parent = started.data?.run;
  if (!parent) throw new Error(`no fleet: ${started.response.status}`);
  const children = await h.db
    .selectFrom('fleet_children as c')
    .select(['c.run_id', 'c.tenant_id'])
    .where('c.parent_id', '=', parent.id)
    .execute();
  return { parent, children };
}

/** A fleet that ended with tenants to retry: cancelled while its children were queued. */
async function finishedFleet() {
  const fleet = await startFleet();
  const cancelled = await owner.POST('/api/operations/{id}/cancel', {
    params: { path: { id: fleet.parent.id } },
  });
  expect(cancelled.response.status).toBe(200);
  const row = await h.db
    .selectFrom('operation_runs')
    .select(['status', 'outcome'])
    .where('id', '=', fleet.parent.id)
    .executeTakeFirstOrThrow();
  expect(row).toEqual({ status: 'completed', outcome: 'cancelled' });
  return fleet;
}

const missing = () => uuidv7();

describe('another workspace’s owner, person token and service token', () => {
  const strangers = ['outsider', 'outsiderToken', 'fabrikamService'] as const;

  it('cannot start a fleet in contoso, by slug or by id, nor name contoso’s tenants from fabrikam', async () => {
    for (const who of strangers) {
      const caller = callers[who];
      await changesNothing(h, async () => {
        const bySlug = await call(
          caller,
          'POST',
          '/api/workspaces/contoso/fleet-operations',
          fleetBody(),
        );
        refused(bySlug, 404, 'not_found');
        const byId = await call(
          caller,
          'POST',
          `/api/workspaces/${h.ids.contoso}/fleet-operations`,
          fleetBody(['contoso-dev']),
        );
        refused(byId, 404, 'not_found');
        expect(byId.body).toBe(bySlug.body);
        // Their own workspace, our tenants: as unknown there as any other slug.
        const borrowed = await call(
          caller,
          'POST',
          '/api/workspaces/fabrikam/fleet-operations',
          fleetBody(['contoso-dev', 'contoso-prod']),
        );
        expect(borrowed.status, `${who}: ${borrowed.body}`).toBe(404);
        expect(borrowed.body).not.toContain(h.ids.dev);
      });
    }
  });

  it('gets the missing-run 404 for children, cancel and retry-failed of a running and a finished fleet', async () => {
    const running = await startFleet();
    const finished = await finishedFleet();
    for (const who of strangers) {
      const caller = callers[who];
      for (const { parent, children } of [running, finished]) {
        await changesNothing(h, async () => {
          for (const [method, suffix] of [
            ['GET', '/children'],
            ['GET', ''],
            ['POST', '/cancel'],
            ['POST', '/retry-failed'],
            ['POST', '/rerun'],
          ] as const) {
            const real = await call(caller, method, `/api/operations/${parent.id}${suffix}`);
            const none = await call(caller, method, `/api/operations/${missing()}${suffix}`);
            refused(real, 404, 'not_found');
            expect(real.body, `${who} ${method} ${suffix}`).toBe(none.body);
            expect(real.body).not.toContain(parent.id);
          }
          // Nor through a child.
          const child = children[0]?.run_id as string;
          refused(await call(caller, 'POST', `/api/operations/${child}/cancel`), 404, 'not_found');
          refused(await call(caller, 'GET', `/api/operations/${child}/children`), 404, 'not_found');
        });
      }
      // Their own list never shows contoso's fleets.
      const list = await call(caller, 'GET', '/api/workspaces/fabrikam/operations?limit=200');
      expect(list.status).toBe(200);
      expect(list.body).not.toContain(running.parent.id);
      expect(list.body).not.toContain(finished.parent.id);
    }
  });
});

describe('a member restricted to contoso-dev and a fleet over every tenant', () => {
  it('gets 404 on its detail, children, cancel and retry-failed, session and token alike', async () => {
    const running = await startFleet();
    const finished = await finishedFleet();
    for (const who of ['devOnly', 'devOnlyToken'] as const) {
      const caller = callers[who];
      for (const { parent } of [running, finished]) {
        await changesNothing(h, async () => {
          for (const [method, suffix] of [
            ['GET', ''],
            ['GET', '/children'],
            ['POST', '/cancel'],
            ['POST', '/retry-failed'],
          ] as const) {
            const real = await call(caller, method, `/api/operations/${parent.id}${suffix}`);
            const none = await call(caller, method, `/api/operations/${missing()}${suffix}`);
            refused(real, 404, 'not_found');
            expect(real.body, `${who} ${method} ${suffix}`).toBe(none.body);
          }
        });
      }
    }
    const row = await h.db
      .selectFrom('operation_runs')
      .select(['status', 'cancel_requested_at'])
      .where('id', '=', running.parent.id)
      .executeTakeFirstOrThrow();
    expect(row.cancel_requested_at).toBeNull();
    expect(row.status).not.toBe('completed');
  });

  it('lists only their own child, never the parent nor the other tenant’s child, in list, counts and search', async () => {
    const { parent, children } = await startFleet();
    const mine = children.find((c) => c.tenant_id === h.ids.dev)?.run_id as string;
    const theirs = children.find((c) => c.tenant_id === h.ids.prod)?.run_id as string;
    expect(mine && theirs).toBeTruthy();
    for (const caller of [callers.devOnly, callers.devOnlyToken]) {
      const list = await call(caller, 'GET', '/api/workspaces/contoso/operations?limit=200');
      expect(list.status).toBe(200);
      const ids = (list.json.items as Array<{ id: string; tenantId: string | null }>).map(
        (r) => r.id,
      );
      expect(ids).toContain(mine);
      expect(ids).not.toContain(parent.id);
      expect(ids).not.toContain(theirs);
      for (const item of list.json.items as Array<{ tenantId: string | null }>)
        expect(item.tenantId).toBe(h.ids.dev);
      const counts = await call(caller, 'GET', '/api/workspaces/contoso/operations/counts');
      expect((counts.json.counts as { all: number }).all).toBe(ids.length);
      // Searching for the parent or the hidden child by id finds nothing.
      for (const id of [parent.id, theirs]) {
        const found = await call(caller, 'GET', `/api/workspaces/contoso/operations?q=${id}`);
        expect(found.status).toBe(200);
        expect(found.json.items).toEqual([]);
        const byPrefix = await call(
          caller,
          'GET',
          `/api/workspaces/contoso/operations?limit=200&q=${id.slice(0, 8)}`,
        );
        // Their child names its parent (parentId, a link that answers 404); no row is it.
        const prefixIds = (byPrefix.json.items as Array<{ id: string }>).map((r) => r.id);
        expect(prefixIds).not.toContain(id);
      }
      // A tenant filter outside their set is a 404, not an empty page.
      const prod = await call(
        caller,
        'GET',
        `/api/workspaces/contoso/operations?tenantId=${h.ids.prod}`,
      );
      refused(prod, 404, 'not_found');
    }
  });

  it('cannot start a fleet over all tenants, or one naming a tenant outside their set', async () => {
    for (const caller of [callers.devOnly, callers.devOnlyToken]) {
      await changesNothing(h, async () => {
        refused(
          await call(caller, 'POST', '/api/workspaces/contoso/fleet-operations', fleetBody('all')),
          403,
          'forbidden',
        );
        const prod = await call(
          caller,
          'POST',
          '/api/workspaces/contoso/fleet-operations',
          fleetBody(['contoso-prod']),
        );
        const mixed = await call(
          caller,
          'POST',
          '/api/workspaces/contoso/fleet-operations',
          fleetBody(['contoso-dev', 'contoso-prod']),
        );
        const unknown = await call(
          caller,
          'POST',
          '/api/workspaces/contoso/fleet-operations',
          fleetBody(['no-such-tenant']),
        );
        refused(prod, 404, 'not_found');
        refused(mixed, 404, 'not_found');
        // A hidden tenant is answered exactly as one that does not exist.
        expect(prod.body).toBe(unknown.body);
      });
    }
  });
});

describe('a read-only member', () => {
  const readonlyRetry = async (id: string) =>
    await changesNothing(h, () =>
      call(callers.readonly, 'POST', `/api/operations/${id}/retry-failed`),
    );

  it('gets 403 for retry-failed of a finished fleet, a start and a cancel, and nothing is written', async () => {
    const finished = await finishedFleet();
    refused(await readonlyRetry(finished.parent.id), 403, 'forbidden');
    await changesNothing(h, async () => {
      refused(
        await call(
          callers.readonly,
          'POST',
          '/api/workspaces/contoso/fleet-operations',
          fleetBody(),
        ),
        403,
        'forbidden',
      );
    });
    const running = await startFleet();
    await changesNothing(h, async () => {
      refused(
        await call(callers.readonly, 'POST', `/api/operations/${running.parent.id}/cancel`),
        403,
        'forbidden',
      );
    });
  });

  it('gets 403 for retry-failed whatever state the fleet is in (the capability comes before the state)', async () => {
    // DESIGN §10: entitled but lacking the capability is 403. A running fleet, or one whose every
    // tenant succeeded, must not answer a read-only member with the fleet's state (409) instead.
    const running = await startFleet();
    refused(await readonlyRetry(running.parent.id), 403, 'forbidden');
  });
});

describe('a member removed from contoso', () => {
  it('loses every fleet route at once: their session is a 404, their token a 401, nothing written', async () => {
    const running = await startFleet();
    const leaverId = await h.userId('leaver@demo.test');
    // Before: they may act (the refusals below are the removal's doing).
    const before = await call(
      callers.leaver,
      'GET',
      `/api/operations/${running.parent.id}/children`,
    );
    expect(before.status).toBe(200);
    const removed = await owner.DELETE('/api/workspaces/{ws}/members/{member}', {
      params: { path: { ws: 'contoso', member: leaverId } },
    });
    expect(removed.response.status).toBe(204);

    await changesNothing(h, async () => {
      const attempts: Array<[string, string, unknown?]> = [
        ['POST', '/api/workspaces/contoso/fleet-operations', fleetBody()],
        ['GET', `/api/operations/${running.parent.id}/children`],
        ['POST', `/api/operations/${running.parent.id}/cancel`],
        ['POST', `/api/operations/${running.parent.id}/retry-failed`],
      ];
      for (const [method, path, body] of attempts) {
        const session = await call(callers.leaver, method, path, body);
        expect([401, 404], `${method} ${path}: ${session.body}`).toContain(session.status);
        expect(session.body).not.toContain(running.parent.id);
        refused(await call(callers.leaverToken, method, path, body), 401, 'unauthenticated');
      }
    });
  });
});

describe('cross-site requests with the owner’s cookie but no CSRF token', () => {
  it('are refused (403 csrf_invalid) on fleet start, retry-failed, rerun and cancel; nothing written', async () => {
    const finished = await finishedFleet();
    const running = await startFleet();
    const child = running.children[0]?.run_id as string;
    const other = await h.login('operator@demo.test');
    const attempts: Array<[string, string, unknown?]> = [
      ['POST', '/api/workspaces/contoso/fleet-operations', fleetBody()],
      ['POST', `/api/operations/${finished.parent.id}/retry-failed`],
      ['POST', `/api/operations/${child}/rerun`, { input: { policyId: 'csrf' } }],
      ['POST', `/api/operations/${child}/rerun`],
      ['POST', `/api/operations/${running.parent.id}/cancel`],
    ];
    const forged: Caller = {
      ...callers.owner,
      // Another session's valid token is not this session's.
      headers: {
        ...callers.owner.headers,
        'x-csrf-token': other.headers['x-csrf-token'] as string,
      },
    };
    await changesNothing(h, async () => {
      for (const [method, path, body] of attempts) {
        for (const caller of [withoutCsrf(callers.owner), forged]) {
          const answer = await call(caller, method, path, body);
          refused(answer, 403, 'csrf_invalid');
        }
      }
    });
    // The same session with its token still may (the refusal was the missing token's doing).
    const ok = await call(
      callers.owner,
      'POST',
      `/api/operations/${finished.parent.id}/retry-failed`,
    );
    expect(ok.status, ok.body).toBe(202);
  });
});
