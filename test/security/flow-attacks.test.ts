import { beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { flowHarness } from '../http/flow-support.js';
import type { Caller } from '../support/http.js';
import { changesNothing, refused, send, tokenFor, withoutCsrf } from './attack-support.js';

// Attacks on flow control and the workers page (DESIGN §10, §11, §17, §18): cross-site writes to
// pauses and limit overrides, pauses by those who may not cancel or may not see the workspace,
// the system plane for workspace people, and urgent starts into another workspace. Each refusal
// is the catalog's answer and writes nothing (pauses, overrides, runs, audit).

const h = await flowHarness();
const callers = {} as Record<
  | 'owner'
  | 'operator'
  | 'operatorToken'
  | 'readonly'
  | 'outsider'
  | 'outsiderToken'
  | 'fabrikamService'
  | 'devManager'
  | 'platform'
  | 'viewer',
  Caller
>;
let contosoPause: string;
let prodPause: string;

beforeAll(async () => {
  callers.owner = await h.login('owner@demo.test');
  callers.operator = await h.login('operator@demo.test');
  callers.operatorToken = await tokenFor(h, {
    workspace: 'contoso',
    name: 'operator-token',
    role: 'operator',
    as: 'operator@demo.test',
  });
  callers.readonly = await h.login('readonly@demo.test');
  callers.outsider = await h.login('outsider@demo.test');
  callers.outsiderToken = await tokenFor(h, {
    workspace: 'fabrikam',
    name: 'outsider-token',
    role: 'owner',
    as: 'outsider@demo.test',
  });
  callers.fabrikamService = await tokenFor(h, {
    workspace: 'fabrikam',
    name: 'fab-bot',
    role: 'owner',
  });
  callers.devManager = await h.member('dev-manager@demo.test', 'manager', [h.ids.dev]);
  callers.platform = await h.login('platform@demo.test');
  await createDirectory({ db: h.db }).setPlatformStaff({
    email: 'viewer@demo.test',
    name: 'Vera Viewer',
    capabilities: ['system.ops.view'],
  });
  await h.db
    .updateTable('users')
    .set({
      password_hash: (
        await h.db
          .selectFrom('users')
          .select('password_hash')
          .where('email', '=', 'platform@demo.test')
          .executeTakeFirstOrThrow()
      ).password_hash,
    })
    .where('email', '=', 'viewer@demo.test')
    .execute();
  callers.viewer = await h.login('viewer@demo.test');
  const pause = async (body: object) => {
    const made = await send(h.base, callers.owner, 'POST', '/api/workspaces/contoso/pauses', {
      body,
    });
    expect(made.status, made.body).toBe(201);
    return made.json.id as string;
  };
  contosoPause = await pause({ type: 'graph.sync' });
  prodPause = await pause({ tenantId: h.ids.prod });
});

const call = (caller: Caller | undefined, method: string, path: string, body?: unknown) =>
  send(h.base, caller, method, path, body === undefined ? {} : { body });

describe('pauses', () => {
  it('refuse a cookie write without its CSRF token (403 csrf_invalid); nothing written', async () => {
    for (const caller of [withoutCsrf(callers.owner), withoutCsrf(callers.devManager)]) {
      await changesNothing(h, async () => {
        refused(
          await call(caller, 'POST', '/api/workspaces/contoso/pauses', { tenantId: h.ids.dev }),
          403,
          'csrf_invalid',
        );
        refused(
          await call(caller, 'POST', '/api/workspaces/contoso/pauses', {}),
          403,
          'csrf_invalid',
        );
        for (const id of [contosoPause, prodPause])
          refused(
            await call(caller, 'DELETE', `/api/workspaces/contoso/pauses/${id}`),
            403,
            'csrf_invalid',
          );
      });
    }
  });

  it('are a 403 for an operator and a read-only member, session or token; nothing written', async () => {
    for (const caller of [callers.operator, callers.operatorToken, callers.readonly]) {
      await changesNothing(h, async () => {
        refused(
          await call(caller, 'POST', '/api/workspaces/contoso/pauses', { tenantId: h.ids.dev }),
          403,
          'forbidden',
        );
        refused(
          await call(caller, 'DELETE', `/api/workspaces/contoso/pauses/${contosoPause}`),
          403,
          'forbidden',
        );
      });
    }
  });

  it('are the missing 404 for another workspace’s owner, person token and service token, by any path', async () => {
    for (const who of ['outsider', 'outsiderToken', 'fabrikamService'] as const) {
      const caller = callers[who];
      await changesNothing(h, async () => {
        refused(await call(caller, 'GET', '/api/workspaces/contoso/pauses'), 404, 'not_found');
        refused(
          await call(caller, 'POST', '/api/workspaces/contoso/pauses', { type: 'graph.sync' }),
          404,
          'not_found',
        );
        refused(
          await call(caller, 'POST', `/api/workspaces/${h.ids.contoso}/pauses`, {}),
          404,
          'not_found',
        );
        // Contoso's tenant named from their own workspace: no such tenant there.
        refused(
          await call(caller, 'POST', '/api/workspaces/fabrikam/pauses', { tenantId: h.ids.dev }),
          404,
          'not_found',
        );
        for (const ws of ['contoso', 'fabrikam']) {
          const real = await call(caller, 'DELETE', `/api/workspaces/${ws}/pauses/${contosoPause}`);
          const none = await call(caller, 'DELETE', `/api/workspaces/${ws}/pauses/${uuidv7()}`);
          refused(real, 404, 'not_found');
          expect(real.body, `${who} ${ws}`).toBe(none.body);
        }
      });
      const theirs = await call(caller, 'GET', '/api/workspaces/fabrikam/pauses');
      expect(theirs.status).toBe(200);
      expect(theirs.body).not.toContain(contosoPause);
    }
  });

  it('let a manager restricted to contoso-dev act on contoso-dev only', async () => {
    const caller = callers.devManager;
    await changesNothing(h, async () => {
      refused(
        await call(caller, 'POST', '/api/workspaces/contoso/pauses', { tenantId: h.ids.prod }),
        404,
        'not_found',
      );
      refused(await call(caller, 'POST', '/api/workspaces/contoso/pauses', {}), 403, 'forbidden');
      refused(
        await call(caller, 'POST', '/api/workspaces/contoso/pauses', { type: 'graph.sync' }),
        403,
        'forbidden',
      );
      const hidden = await call(caller, 'DELETE', `/api/workspaces/contoso/pauses/${prodPause}`);
      const none = await call(caller, 'DELETE', `/api/workspaces/contoso/pauses/${uuidv7()}`);
      refused(hidden, 404, 'not_found');
      expect(hidden.body).toBe(none.body);
      refused(
        await call(caller, 'DELETE', `/api/workspaces/contoso/pauses/${contosoPause}`),
        403,
        'forbidden',
      );
    });
    const list = await call(caller, 'GET', '/api/workspaces/contoso/pauses');
    expect(list.status).toBe(200);
    expect(list.body).not.toContain(prodPause);
    // Their own tenant they may pause (the refusals above are the scope's).
    const own = await call(caller, 'POST', '/api/workspaces/contoso/pauses', {
      tenantId: h.ids.dev,
    });
    expect(own.status, own.body).toBe(201);
  });
});

describe('the system flow limits', () => {
  const workspacePeople = [
    'owner',
    'operator',
    'operatorToken',
    'outsider',
    'fabrikamService',
  ] as const;

  it('are a 404 for workspace people and tokens (GET, PUT, DELETE), 401 anonymous; nothing written', async () => {
    for (const who of workspacePeople) {
      const caller = callers[who];
      await changesNothing(h, async () => {
        const get = await call(caller, 'GET', '/api/system/flow');
        refused(get, 404, 'not_found');
        expect(get.body).not.toContain('graph.sync');
        refused(
          await call(caller, 'PUT', '/api/system/flow/limits/graph.sync', {
            concurrency: { total: 1000 },
          }),
          404,
          'not_found',
        );
        refused(
          await call(caller, 'DELETE', '/api/system/flow/limits/graph.sync'),
          404,
          'not_found',
        );
      });
    }
    await changesNothing(h, async () => {
      refused(await call(undefined, 'GET', '/api/system/flow'), 401, 'unauthenticated');
      refused(
        await call(undefined, 'PUT', '/api/system/flow/limits/graph', {
          concurrency: { total: 9 },
        }),
        401,
        'unauthenticated',
      );
    });
  });

  it('refuse platform staff’s cookie writes without the CSRF token, and a view-only staff member’s writes', async () => {
    // An override in place, so a forged DELETE would have something to remove.
    const set = await call(callers.platform, 'PUT', '/api/system/flow/limits/graph', {
      concurrency: { perTenant: 1, total: 3 },
    });
    expect(set.status, set.body).toBe(200);
    await changesNothing(h, async () => {
      for (const name of ['graph', 'graph.sync']) {
        refused(
          await call(withoutCsrf(callers.platform), 'PUT', `/api/system/flow/limits/${name}`, {
            concurrency: { total: 1000 },
          }),
          403,
          'csrf_invalid',
        );
        refused(
          await call(withoutCsrf(callers.platform), 'DELETE', `/api/system/flow/limits/${name}`),
          403,
          'csrf_invalid',
        );
        refused(
          await call(callers.viewer, 'PUT', `/api/system/flow/limits/${name}`, {
            concurrency: { total: 1000 },
          }),
          403,
          'forbidden',
        );
        refused(
          await call(callers.viewer, 'DELETE', `/api/system/flow/limits/${name}`),
          403,
          'forbidden',
        );
      }
    });
    const view = await call(callers.viewer, 'GET', '/api/system/flow');
    expect(view.status).toBe(200);
  });
});

describe('an urgent start into another workspace', () => {
  it('is the 404 of a workspace that does not exist, for sessions and tokens; nothing written', async () => {
    const body = (tenantId: string) => ({
      type: 'graph.sync',
      tenantId,
      input: { n: 1 },
      priority: 'high',
    });
    await changesNothing(h, async () => {
      for (const ws of ['fabrikam', h.ids.fabrikam]) {
        const real = await call(
          callers.owner,
          'POST',
          `/api/workspaces/${ws}/operations`,
          body(h.ids.fabrikamProd),
        );
        const none = await call(
          callers.owner,
          'POST',
          '/api/workspaces/no-such-ws/operations',
          body(h.ids.fabrikamProd),
        );
        refused(real, 404, 'not_found');
        expect(real.body).toBe(none.body);
      }
      for (const who of ['outsider', 'outsiderToken', 'fabrikamService'] as const) {
        refused(
          await call(callers[who], 'POST', '/api/workspaces/contoso/operations', body(h.ids.prod)),
          404,
          'not_found',
        );
        // Their own workspace with contoso's tenant: no such tenant there.
        refused(
          await call(callers[who], 'POST', '/api/workspaces/fabrikam/operations', body(h.ids.prod)),
          404,
          'not_found',
        );
      }
      // Inside contoso: urgency is no right to start.
      refused(
        await call(
          callers.readonly,
          'POST',
          '/api/workspaces/contoso/operations',
          body(h.ids.prod),
        ),
        403,
        'forbidden',
      );
      refused(
        await call(
          callers.devManager,
          'POST',
          '/api/workspaces/contoso/operations',
          body(h.ids.prod),
        ),
        404,
        'not_found',
      );
    });
  });
});

describe('the workers page', () => {
  it('is a 404 for workspace owners and tokens, a 401 anonymous, and shown to platform staff', async () => {
    for (const who of ['owner', 'outsider', 'operatorToken', 'fabrikamService'] as const) {
      const answer = await call(callers[who], 'GET', '/api/system/workers');
      const none = await call(callers[who], 'GET', '/api/system/no-such-page');
      refused(answer, 404, 'not_found');
      expect(answer.body).not.toContain('items');
      expect(none.status).toBe(404);
    }
    refused(await call(undefined, 'GET', '/api/system/workers'), 401, 'unauthenticated');
    refused(
      await send(h.base, undefined, 'GET', '/api/system/workers', {
        headers: { authorization: 'Bearer rwt_not-a-token' },
      }),
      401,
      'unauthenticated',
    );
    const staff = await call(callers.platform, 'GET', '/api/system/workers');
    expect(staff.status, staff.body).toBe(200);
    expect(Array.isArray(staff.json.items)).toBe(true);
  });
});
