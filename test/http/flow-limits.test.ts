import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunwardenClient } from '../../src/client/index.js';
import { FLOW_CHANNEL } from '../../src/flow/lanes.js';
import { until } from '../support/db.js';
import { flowHarness } from './flow-support.js';

// DESIGN §11, §17: platform staff see every flow limit with the runs it counts, and override a
// type's or a pool's limits at runtime by the catalog's rules; the admitters hear it at commit.

const h = await flowHarness();
let staff: RunwardenClient;
let owner: RunwardenClient;
let heard = 0;
const listener = new pg.Client({ connectionString: h.t.url });
const ws = { path: { ws: 'contoso' } };
let n = 0;

beforeAll(async () => {
  staff = h.as(await h.login('platform@demo.test'));
  owner = h.as(await h.login('owner@demo.test'));
  await listener.connect();
  listener.on('notification', (msg) => {
    if (msg.channel === FLOW_CHANNEL) heard += 1;
  });
  await listener.query(`listen ${FLOW_CHANNEL}`);
});
afterAll(async () => {
  await listener.end();
});

async function startGraph(tenantId: string, type = 'graph.sync') {
  const started = await owner.POST('/api/workspaces/{ws}/operations', {
    params: ws,
    body: { type, tenantId, input: { n: ++n } },
  });
  expect(started.response.status).toBe(202);
  return started.data?.run.id as string;
}

const limits = async () => (await staff.GET('/api/system/flow')).data?.limits ?? [];
const limit = async (name: string) => (await limits()).find((l) => l.name === name);
const override = (name: string, body: Record<string, unknown>) =>
  staff.PUT('/api/system/flow/limits/{name}', { params: { path: { name } }, body: body as never });
const restore = (name: string, api = staff) =>
  api.DELETE('/api/system/flow/limits/{name}', { params: { path: { name } } });

describe('the flow limits platform staff see', () => {
  it('lists each type and pool with its limits and its running and waiting runs', async () => {
    for (const tenant of [h.ids.prod, h.ids.prod, h.ids.dev]) await startGraph(tenant);
    await startGraph(h.ids.dev, 'mail.sync');
    const pass = await h.admit(); // graph.sync: one per tenant; mail.sync: its rate allows it
    expect(pass.admitted).toHaveLength(3);
    const all = await limits();
    expect(all.map((l) => `${l.kind}:${l.name}`)).toEqual([
      'pool:graph',
      'type:graph.sync',
      'type:mail.sync',
    ]);
    expect(all.find((l) => l.name === 'graph.sync')).toEqual({
      name: 'graph.sync',
      kind: 'type',
      types: ['graph.sync'],
      concurrency: { perTenant: 1, total: 4 },
      rate: null,
      declared: { concurrency: { perTenant: 1, total: 4 } },
      override: null,
      running: 2,
      waiting: 1,
    });
    expect(all.find((l) => l.name === 'graph')).toMatchObject({
      types: ['graph.sync', 'mail.sync'],
      concurrency: { perTenant: 2, total: 10 },
      running: 3,
      waiting: 1,
    });
    expect(all.find((l) => l.name === 'mail.sync')).toMatchObject({
      rate: { perTenant: { limit: 5, intervalSeconds: 30 } },
      running: 1,
      waiting: 0,
    });
  });

  it('an override replaces the limits at once: audited, heard by the admitters, applied by the next pass', async () => {
    const before = heard;
    const res = await override('graph.sync', { concurrency: { perTenant: 2, total: 4 } });
    expect(res.response.status).toBe(200);
    expect(res.data?.limit).toMatchObject({
      concurrency: { perTenant: 2, total: 4 },
      declared: { concurrency: { perTenant: 1, total: 4 } },
      override: { concurrency: { perTenant: 2, total: 4 }, updatedBy: expect.any(String) },
    });
    await until(() => heard > before, { what: 'the admitters to hear the override' });
    // The prod run held by perTenant 1 now fits perTenant 2.
    expect((await h.admit()).admitted).toHaveLength(1);
    expect(await limit('graph.sync')).toMatchObject({ running: 3, waiting: 0 });

    const audit = await h.db
      .selectFrom('audit_log')
      .select(['action', 'target_type', 'target_id', 'details', 'actor_user_id'])
      .where('action', 'like', 'flow.limits%')
      .execute();
    expect(audit).toEqual([
      {
        action: 'flow.limits_overridden',
        target_type: 'flow_limit',
        target_id: 'graph.sync',
        actor_user_id: expect.any(String),
        details: {
          kind: 'type',
          limits: { concurrency: { perTenant: 2, total: 4 } },
          before: null,
          declared: { concurrency: { perTenant: 1, total: 4 } },
        },
      },
    ]);

    const restored = await restore('graph.sync');
    expect(restored.response.status).toBe(200);
    expect(restored.data?.limit).toMatchObject({
      concurrency: { perTenant: 1, total: 4 },
      override: null,
    });
    expect((await restore('graph.sync')).response.status).toBe(200); // nothing to restore: fine
    const actions = await h.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', 'like', 'flow.limits%')
      .execute();
    expect(actions.map((a) => a.action)).toEqual([
      'flow.limits_overridden',
      'flow.limits_restored',
    ]);
  });

  it("a pool's override with a rate replaces its concurrency", async () => {
    const res = await override('graph', { rate: { total: { limit: 100, intervalSeconds: 60 } } });
    expect(res.response.status).toBe(200);
    expect(res.data?.limit).toMatchObject({
      concurrency: null,
      rate: { total: { limit: 100, intervalSeconds: 60 } },
    });
    expect((await restore('graph')).data?.limit.concurrency).toEqual({ perTenant: 2, total: 10 });
  });

  it.each([
    [
      'perTenant above total',
      { concurrency: { perTenant: 5, total: 2 } },
      /above concurrency.total/,
    ],
    [
      'a rate window as long as the queued-stale window',
      { rate: { perTenant: { limit: 1, intervalSeconds: 100_000 } } },
      /must stay below queuedStaleAfterSeconds/,
    ],
    ['a zero limit', { concurrency: { total: 0 } }, null],
    ['a fraction', { concurrency: { perTenant: 1.5 } }, null],
    ['an unknown setting', { concurrency: { perTenant: 1 }, pools: ['x'] }, null],
    ['an unknown side', { rate: { perMonth: { limit: 1, intervalSeconds: 10 } } }, null],
  ])('refuses %s with a 400, changing nothing', async (_what, body, message) => {
    const res = await override('graph.sync', body);
    expect(res.response.status).toBe(400);
    expect(res.error?.error.code).toBe('validation_failed');
    if (message) expect(res.error?.error.message).toMatch(message);
    expect(await h.db.selectFrom('flow_limit_overrides').selectAll().execute()).toEqual([]);
  });

  it('a pool must keep a limit, as in the catalog; a type may drop to fair dispatch only', async () => {
    const pool = await override('graph', {});
    expect(pool.response.status).toBe(400);
    expect(pool.error?.error.message).toMatch(/flow pool "graph" sets no limit/);
    const type = await override('mail.sync', {});
    expect(type.data?.limit).toMatchObject({ concurrency: null, rate: null });
    await restore('mail.sync');
  });

  it('an unknown name is a 404; people who are not platform staff get 404, staff without triage 403', async () => {
    expect((await override('nope.sync', { concurrency: { total: 1 } })).response.status).toBe(404);
    expect((await restore('nope.sync')).response.status).toBe(404);
    // demo.sleep has no flow: it has no limit to override.
    expect((await override('demo.sleep', { concurrency: { total: 1 } })).response.status).toBe(404);
    expect((await owner.GET('/api/system/flow')).response.status).toBe(404);
    expect(
      (
        await owner.PUT('/api/system/flow/limits/{name}', {
          params: { path: { name: 'graph' } },
          body: { concurrency: { total: 1 } },
        })
      ).response.status,
    ).toBe(404);
    expect((await restore('graph', owner)).response.status).toBe(404);
    await h.db
      .updateTable('users')
      .set({ platform_capabilities: ['system.ops.view'] })
      .where('email', '=', 'platform@demo.test')
      .execute();
    try {
      const viewer = h.as(await h.login('platform@demo.test'));
      expect((await viewer.GET('/api/system/flow')).response.status).toBe(200);
      const denied = await viewer.PUT('/api/system/flow/limits/{name}', {
        params: { path: { name: 'graph' } },
        body: { concurrency: { total: 1 } },
      });
      expect(denied.response.status).toBe(403);
      expect(denied.error?.error.details).toEqual({ capability: 'system.ops.triage' });
    } finally {
      await h.db
        .updateTable('users')
        .set({ platform_capabilities: ['system.ops.view', 'system.ops.triage'] })
        .where('email', '=', 'platform@demo.test')
        .execute();
    }
    expect(await h.db.selectFrom('flow_limit_overrides').selectAll().execute()).toEqual([]);
  });
});
