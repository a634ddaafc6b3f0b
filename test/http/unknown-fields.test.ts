import { beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { apiHarness, type Caller, DEMO_PASSWORD, rowCounts } from '../support/http.js';

// DESIGN §11: a JSON body with a field its route does not know is refused (400
// `validation_failed`, naming the field) and changes nothing, on every route that takes one.
// The routes are walked from the OpenAPI document, so a new route with a body needs a case here.

const h = await apiHarness({ flowPools: [{ name: 'walk', concurrency: { total: 1 } }] });
type As = 'owner' | 'token' | 'staff' | 'nobody';
const callers = {} as Record<As, Caller | undefined>;
let externalRun: string;

/** A body each route accepts, and the caller it accepts it from. */
const VALID: Record<string, { as: As; body: () => Record<string, unknown> }> = {
  login: { as: 'nobody', body: () => ({ email: 'owner@demo.test', password: DEMO_PASSWORD }) },
  setPassword: {
    as: 'owner',
    body: () => ({ newPassword: 'a-new-password-1', currentPassword: DEMO_PASSWORD }),
  },
  acceptInvitation: {
    as: 'nobody',
    body: () => ({ token: 'rwm_unknown', newPassword: 'a-new-password-1' }),
  },
  createToken: { as: 'owner', body: () => ({ name: 'walk', role: 'operator' }) },
  upsertWorkspace: { as: 'staff', body: () => ({ slug: 'walk', name: 'Walk' }) },
  upsertTenant: { as: 'owner', body: () => ({ name: 'Walk' }) },
  upsertMember: { as: 'owner', body: () => ({ role: 'operator', tenantIds: null }) },
  startOperation: {
    as: 'owner',
    body: () => ({ type: 'policy.sync', tenantId: h.ids.prod, input: { scope: 'all' } }),
  },
  reportHeartbeat: { as: 'token', body: () => ({}) },
  reportProgress: { as: 'token', body: () => ({ processed: 1, total: 2, counts: { items: 1 } }) },
  completeRun: { as: 'token', body: () => ({ outcome: 'succeeded', counts: { items: 2 } }) },
  appendRunLogs: {
    as: 'token',
    body: () => ({ lines: [{ level: 'info', message: 'restored', fields: { items: 2 } }] }),
  },
  createPause: { as: 'owner', body: () => ({ tenantId: h.ids.legacy }) },
  overrideFlowLimit: { as: 'staff', body: () => ({ concurrency: { total: 2 } }) },
  rerunRun: { as: 'owner', body: () => ({}) },
  startBulkAction: {
    as: 'owner',
    body: () => ({ action: 'cancel', filter: { tag: 'walk' }, dryRun: true }),
  },
  startFleet: {
    as: 'owner',
    body: () => ({ type: 'policy.sync', tenants: 'all', input: { scope: 'all' } }),
  },
  createAlertRule: { as: 'owner', body: () => alertRuleBody },
  updateAlertRule: { as: 'owner', body: () => alertRuleBody },
};
const alertRuleBody = {
  name: 'walk',
  condition: { kind: 'run_ended', outcomes: ['failed'] },
  destination: { kind: 'email', to: ['ops@example.test'] },
};
let alertRuleId: string;

interface Route {
  method: string;
  path: string;
  operationId: string;
}
let routes: Route[];

beforeAll(async () => {
  await createDirectory({ db: h.db }).setPlatformStaff({
    email: 'platform@demo.test',
    capabilities: ['platform.directory', 'system.ops.view', 'system.ops.triage'],
  });
  callers.owner = await h.login('owner@demo.test');
  callers.staff = await h.login('platform@demo.test');
  callers.nobody = undefined;
  const created = await h.request(callers.owner, {
    method: 'POST',
    url: '/api/workspaces/contoso/tokens',
    payload: { name: 'reporter', role: 'operator' },
  });
  expect(created.statusCode).toBe(201);
  callers.token = { name: 'token', headers: { authorization: `Bearer ${created.json().token}` } };
  const external = await h.request(callers.token, {
    method: 'POST',
    url: '/api/workspaces/contoso/operations',
    payload: { type: 'restore.execute', tenantId: h.ids.prod, input: { restoreRunId: 'r-walk' } },
  });
  expect(external.statusCode).toBe(202);
  externalRun = external.json().run.id;
  const rule = await h.request(callers.owner, {
    method: 'POST',
    url: '/api/workspaces/contoso/alert-rules',
    payload: alertRuleBody,
  });
  expect(rule.statusCode).toBe(201);
  alertRuleId = rule.json().rule.id;

  const doc = (await h.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
    paths: Record<string, Record<string, { operationId: string; requestBody?: object }>>;
  };
  routes = Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([, operation]) => operation.requestBody)
      .map(([method, operation]) => ({ method, path, operationId: operation.operationId })),
  );
});

const PARAMS: Record<string, () => string> = {
  ws: () => 'contoso',
  slug: () => 'walk',
  member: () => 'walk@demo.test',
  id: () => externalRun,
  name: () => 'walk',
};

function urlOf(path: string): string {
  if (path.includes('/alert-rules/{id}'))
    return path.replace('{ws}', 'contoso').replace('{id}', alertRuleId);
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = PARAMS[name];
    if (!value) throw new Error(`no value for the path parameter ${name}`);
    return encodeURIComponent(value());
  });
}

/** Every table a request could write, and every run's mutable columns. */
async function storedState() {
  const counts = await rowCounts(h.t);
  const tables = [
    'audit_log',
    'sessions',
    'users',
    'tenants',
    'workspaces',
    'invites',
    'pending_memberships',
    'login_throttle',
    'flow_pauses',
    'flow_limit_overrides',
    'fleet_children',
    'run_log_lines',
    'alert_rules',
    'alert_deliveries',
  ] as const;
  for (const table of tables) {
    const row = await h.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  const users = await h.db
    .selectFrom('users')
    .select(['id', 'password_hash'])
    .orderBy('id')
    .execute();
  const runs = await h.db
    .selectFrom('operation_runs')
    .select([
      'id',
      'status',
      'outcome',
      'progress_processed',
      'progress_total',
      'summary_counts',
      'last_heartbeat_at',
      'updated_at',
    ])
    .orderBy('id')
    .execute();
  return { counts, users, runs };
}

describe('an unknown field in a JSON body', () => {
  it('every route with a JSON body has a case here', () => {
    expect(routes.map((r) => r.operationId).sort()).toEqual(Object.keys(VALID).sort());
  });

  it('is refused with 400 naming the field, and nothing is written', async () => {
    const before = await storedState();
    for (const route of routes) {
      const valid = VALID[route.operationId];
      if (!valid) throw new Error(`no case for ${route.operationId}`);
      const what = `${route.method.toUpperCase()} ${route.path}`;
      const res = await h.request(callers[valid.as], {
        method: route.method.toUpperCase() as 'POST' | 'PUT',
        url: urlOf(route.path),
        payload: { ...valid.body(), unexpected: true },
      });
      expect(res.statusCode, `${what}: ${res.body}`).toBe(400);
      const { error } = res.json() as {
        error: { code: string; details: Array<{ path: string; message: string }> };
      };
      expect(error.code, what).toBe('validation_failed');
      // The one thing wrong with the body is the field it does not know.
      expect(error.details, what).toEqual([
        { path: '', message: expect.stringContaining('"unexpected"') },
      ]);
    }
    expect(await storedState()).toEqual(before);
  });

  it('is refused inside a body too: a failure with a field of its own', async () => {
    const before = await storedState();
    const res = await h.request(callers.token, {
      method: 'POST',
      url: `/api/operations/${externalRun}/complete`,
      payload: { outcome: 'failed', failures: [{ code: 'x', message: 'y', stack: 'z' }] },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(await storedState()).toEqual(before);
  });

  it('the same bodies without it are accepted (so each refusal above was for the field)', async () => {
    for (const route of routes) {
      const valid = VALID[route.operationId];
      if (!valid) throw new Error(`no case for ${route.operationId}`);
      const res = await h.request(callers[valid.as], {
        method: route.method.toUpperCase() as 'POST' | 'PUT',
        url: urlOf(route.path),
        payload: valid.body(),
      });
      const what = `${route.operationId}: ${res.body}`;
      if (route.operationId === 'acceptInvitation') {
        // An invitation nobody issued: well-formed, and answered "it does not work".
        expect(res.json().error?.code, what).toBe('invite_invalid');
      } else {
        expect(res.statusCode, what).toBeGreaterThanOrEqual(200);
        expect(res.statusCode, what).toBeLessThan(300);
      }
    }
  });

  it('is refused by a route that takes no body at all (cancel), which then changes nothing', async () => {
    const started = await h.request(callers.owner, {
      method: 'POST',
      url: '/api/workspaces/contoso/operations',
      payload: { type: 'policy.sync', tenantId: h.ids.dev, input: { scope: 'all' } },
    });
    expect(started.statusCode).toBe(202);
    const id = started.json().run.id as string;
    const before = await storedState();
    for (const payload of [{ force: true }, [1], 'now']) {
      const res = await h.request(callers.owner, {
        method: 'POST',
        url: `/api/operations/${id}/cancel`,
        payload: JSON.stringify(payload),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('validation_failed');
    }
    expect(await storedState()).toEqual(before);
    const cancelled = await h.request(callers.owner, {
      method: 'POST',
      url: `/api/operations/${id}/cancel`,
    });
    expect(cancelled.statusCode).toBeLessThan(300);
  });
});
