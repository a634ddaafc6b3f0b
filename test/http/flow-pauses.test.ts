import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunwardenClient } from '../../src/client/index.js';
import { FLOW_CHANNEL } from '../../src/flow/lanes.js';
import { until } from '../support/db.js';
import type { Caller } from '../support/http.js';
import { rowCounts } from '../support/http.js';
import { flowHarness } from './flow-support.js';

// DESIGN §11, §17: pauses per type, tenant and type × tenant, over real HTTP. Who may pause
// (operations.cancel: owners and managers), a tenant-restricted manager only for their tenants,
// tenancy as a boundary, the audit log, and lifting a pause waking every admitter at its commit.

const h = await flowHarness();
let owner: Caller;
let ownerApi: RunwardenClient;
let readonlyApi: RunwardenClient;
let outsiderApi: RunwardenClient;
let restrictedApi: RunwardenClient;
let heard: number;
const listener = new pg.Client({ connectionString: h.t.url });
const ws = { path: { ws: 'contoso' } };
let n = 0;

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  ownerApi = h.as(owner);
  readonlyApi = h.as(await h.login('readonly@demo.test'));
  outsiderApi = h.as(await h.login('outsider@demo.test'));
  restrictedApi = h.as(await h.member('dev-manager@demo.test', 'manager', [h.ids.dev]));
  await listener.connect();
  heard = 0;
  listener.on('notification', (msg) => {
    if (msg.channel === FLOW_CHANNEL) heard += 1;
  });
  await listener.query(`listen ${FLOW_CHANNEL}`);
});
afterAll(async () => {
  await listener.end();
});

const pause = (api: RunwardenClient, body: { type?: string; tenantId?: string }, ref = 'contoso') =>
  api.POST('/api/workspaces/{ws}/pauses', { params: { path: { ws: ref } }, body });
const lift = (api: RunwardenClient, id: string, ref = 'contoso') =>
  api.DELETE('/api/workspaces/{ws}/pauses/{id}', { params: { path: { ws: ref, id } } });
const pauses = async (api: RunwardenClient) =>
  (await api.GET('/api/workspaces/{ws}/pauses', { params: ws })).data?.items ?? [];

async function startGraph(tenantId: string) {
  const started = await ownerApi.POST('/api/workspaces/{ws}/operations', {
    params: ws,
    body: { type: 'graph.sync', tenantId, input: { n: ++n } },
  });
  expect(started.response.status).toBe(202);
  return started.data?.run.id as string;
}

const heldNow = async (id: string) =>
  (
    await h.db
      .selectFrom('operation_runs')
      .select('held')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).held;

describe('pausing and resuming over the API', () => {
  it('a tenant pause holds its runs at admission; lifting it wakes the admitters and they go', async () => {
    const paused = await pause(ownerApi, { tenantId: h.ids.prod });
    expect(paused.response.status).toBe(201);
    expect(paused.data).toMatchObject({
      type: null,
      tenantId: h.ids.prod,
      createdBy: owner.userId,
      createdByName: expect.any(String),
    });
    const id = paused.data?.id as string;
    const runId = await startGraph(h.ids.prod);
    const other = await startGraph(h.ids.dev);
    const pass = await h.admit();
    expect(pass.admitted.map((r) => r.id)).toEqual([other]);
    expect(await heldNow(runId)).toBe(true);
    const verdict = await h.db
      .selectFrom('flow_lanes')
      .select('verdict')
      .where('type', '=', 'graph.sync')
      .where('tenant_key', '=', h.ids.prod)
      .executeTakeFirstOrThrow();
    expect(verdict.verdict).toEqual({ kind: 'paused', pauseId: id });

    expect((await pauses(ownerApi)).map((p) => p.id)).toEqual([id]);
    const before = heard;
    expect((await lift(ownerApi, id)).response.status).toBe(204);
    await until(() => heard > before, { what: 'the admitters to be woken by the lift' });
    expect(await pauses(ownerApi)).toEqual([]);
    expect((await h.admit()).admitted.map((r) => r.id)).toEqual([runId]);

    const audit = await h.db
      .selectFrom('audit_log')
      .select(['action', 'actor_user_id', 'workspace_id', 'target_id', 'details'])
      .where('target_id', '=', id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['flow.paused', 'flow.resumed']);
    expect(audit[0]).toMatchObject({
      actor_user_id: owner.userId,
      workspace_id: h.ids.contoso,
      details: { tenantId: h.ids.prod, type: null, source: 'http' },
    });
  });

  it('pauses a type, and a type for one tenant, each once: a second is a 409 naming the first', async () => {
    const byType = await pause(ownerApi, { type: 'graph.sync' });
    expect(byType.response.status).toBe(201);
    const both = await pause(ownerApi, { type: 'graph.sync', tenantId: h.ids.dev });
    expect(both.response.status).toBe(201);
    const again = await pause(ownerApi, { type: 'graph.sync' });
    expect(again.response.status).toBe(409);
    expect(again.error?.error.message).toMatch(/type graph.sync is already paused/);
    expect(again.error?.error.details).toMatchObject({ pause: { id: byType.data?.id } });
    const twice = await pause(ownerApi, { tenantId: h.ids.dev, type: 'graph.sync' });
    expect(twice.error?.error.details).toMatchObject({ pause: { id: both.data?.id } });
    expect(await pauses(ownerApi)).toHaveLength(2);
    for (const p of await pauses(ownerApi)) await lift(ownerApi, p.id);
  });

  it('refuses an unknown or external type, and bad bodies, writing nothing', async () => {
    const before = { ...(await rowCounts(h.t)), pauses: (await pauses(ownerApi)).length };
    const unknown = await pause(ownerApi, { type: 'graph.synk' });
    expect(unknown.response.status).toBe(422);
    expect(unknown.error?.error.code).toBe('unknown_type');
    const external = await pause(ownerApi, { type: 'restore.execute' });
    expect(external.response.status).toBe(422);
    expect(external.error?.error.message).toMatch(/external/);
    const badTenant = await pause(ownerApi, { tenantId: 'not-a-uuid' });
    expect(badTenant.response.status).toBe(400);
    const extra = await pause(ownerApi, { type: 'graph.sync', all: true } as never);
    expect(extra.response.status).toBe(400);
    const noTenant = await pause(ownerApi, { tenantId: crypto.randomUUID() });
    expect(noTenant.response.status).toBe(404);
    expect({ ...(await rowCounts(h.t)), pauses: (await pauses(ownerApi)).length }).toEqual(before);
    const notThere = await lift(ownerApi, crypto.randomUUID());
    expect(notThere.response.status).toBe(404);
  });

  it('who may: owners and managers pause; a read-only member sees pauses but may not change them', async () => {
    const denied = await pause(readonlyApi, { type: 'graph.sync' });
    expect(denied.response.status).toBe(403);
    expect(denied.error?.error.details).toEqual({ capability: 'operations.cancel' });
    const manager = h.as(await h.login('manager@demo.test'));
    const made = await pause(manager, { type: 'mail.sync' });
    expect(made.response.status).toBe(201);
    expect((await pauses(readonlyApi)).map((p) => p.id)).toEqual([made.data?.id]);
    expect((await lift(readonlyApi, made.data?.id as string)).response.status).toBe(403);
    expect((await lift(manager, made.data?.id as string)).response.status).toBe(204);
  });

  it('a manager restricted to a tenant pauses and lifts only that tenant, and sees only its pauses', async () => {
    const own = await pause(restrictedApi, { tenantId: h.ids.dev, type: 'graph.sync' });
    expect(own.response.status).toBe(201);
    // Another tenant is as absent as one that does not exist; the whole workspace is not theirs.
    expect((await pause(restrictedApi, { tenantId: h.ids.prod })).response.status).toBe(404);
    expect((await pause(restrictedApi, { type: 'graph.sync' })).response.status).toBe(403);
    const prod = await pause(ownerApi, { tenantId: h.ids.prod });
    const wide = await pause(ownerApi, { type: 'mail.sync' });
    const seen = (await pauses(restrictedApi)).map((p) => p.id).sort();
    expect(seen).toEqual([own.data?.id, wide.data?.id].sort());
    expect((await lift(restrictedApi, prod.data?.id as string)).response.status).toBe(404);
    expect((await lift(restrictedApi, wide.data?.id as string)).response.status).toBe(403);
    expect((await lift(restrictedApi, own.data?.id as string)).response.status).toBe(204);
    expect((await pauses(ownerApi)).map((p) => p.id).sort()).toEqual(
      [prod.data?.id, wide.data?.id].sort(),
    );
    for (const p of await pauses(ownerApi)) await lift(ownerApi, p.id);
  });
});

describe('tenancy is a boundary', () => {
  it("another workspace's owner gets nothing: no list, no pause, no lift, not even with their own tenant", async () => {
    const paused = await pause(ownerApi, { tenantId: h.ids.prod });
    const id = paused.data?.id as string;
    const before = await pauses(ownerApi);

    const list = await outsiderApi.GET('/api/workspaces/{ws}/pauses', { params: ws });
    expect(list.response.status).toBe(404);
    expect(JSON.stringify(list.error)).not.toContain(id);
    expect((await pause(outsiderApi, { tenantId: h.ids.prod })).response.status).toBe(404);
    expect((await pause(outsiderApi, { type: 'graph.sync' })).response.status).toBe(404);
    expect((await lift(outsiderApi, id)).response.status).toBe(404);
    // Through their own workspace's URL: a pause of contoso is not theirs to lift.
    expect((await lift(outsiderApi, id, 'fabrikam')).response.status).toBe(404);
    // Their own tenant in contoso's URL, and contoso's tenant in theirs: both unknown.
    expect((await pause(outsiderApi, { tenantId: h.ids.fabrikamProd })).response.status).toBe(404);
    expect((await pause(outsiderApi, { tenantId: h.ids.prod }, 'fabrikam')).response.status).toBe(
      404,
    );
    expect(await pauses(ownerApi)).toEqual(before);
    expect(
      await h.db
        .selectFrom('flow_pauses')
        .select('id')
        .where('workspace_id', '=', h.ids.fabrikam)
        .execute(),
    ).toEqual([]);

    // And the other way: contoso's owner cannot reach fabrikam's pauses.
    const theirs = await pause(outsiderApi, { tenantId: h.ids.fabrikamProd }, 'fabrikam');
    expect(theirs.response.status).toBe(201);
    expect((await lift(ownerApi, theirs.data?.id as string)).response.status).toBe(404);
    expect((await pauses(ownerApi)).map((p) => p.id)).toEqual([id]);
    await lift(ownerApi, id);
    await lift(outsiderApi, theirs.data?.id as string, 'fabrikam');
  });
});
