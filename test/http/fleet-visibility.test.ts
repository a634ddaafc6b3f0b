import { beforeAll, describe, expect, it } from 'vitest';
import type { RunwardenClient } from '../../src/client/index.js';
import { flowHarness } from './flow-support.js';

// DESIGN §19 surfaces over real HTTP: a fleet is one row (its parent's) wherever the parent is
// listed; a tenant-restricted member sees a parent only when every child's tenant is theirs, and
// otherwise just their children; the tenants that did not succeed are retried from the parent.
// Each fleet has its own identity (policyId), so no child joins another fleet's run.

const h = await flowHarness();
let owner: RunwardenClient;
let readonly: RunwardenClient;
let outsider: RunwardenClient;
let devOnly: RunwardenClient;
const ws = { path: { ws: 'contoso' } };
let n = 0;

beforeAll(async () => {
  owner = h.as(await h.login('owner@demo.test'));
  readonly = h.as(await h.login('readonly@demo.test'));
  outsider = h.as(await h.login('outsider@demo.test'));
  devOnly = h.as(await h.member('dev-only@demo.test', 'manager', [h.ids.dev]));
});

async function startFleet(tenants: 'all' | string[]) {
  const started = await owner.POST('/api/workspaces/{ws}/fleet-operations', {
    params: ws,
    body: { type: 'policy.sync_one', tenants, input: { policyId: `p${++n}` } },
  });
  const parent = started.data?.run;
  if (!parent) throw new Error(`no fleet: ${started.response.status}`);
  const kids = await owner.GET('/api/operations/{id}/children', {
    params: { path: { id: parent.id } },
  });
  return { parent, children: (kids.data?.items ?? []).map((k) => k.id) };
}

async function listed(api: RunwardenClient, query: { bucket?: 'active'; tenantId?: string } = {}) {
  const page = await api.GET('/api/workspaces/{ws}/operations', {
    params: { ...ws, query: { limit: 200, ...query } },
  });
  expect(page.response.status).toBe(200);
  return (page.data?.items ?? []).map((r) => r.id);
}

const activeTile = async (api: RunwardenClient, tenantId?: string) =>
  (
    await api.GET('/api/workspaces/{ws}/operations/summary', {
      params: { ...ws, query: tenantId ? { tenantId } : {} },
    })
  ).data?.activeFresh;

const detailStatus = async (api: RunwardenClient, id: string) =>
  (await api.GET('/api/operations/{id}', { params: { path: { id } } })).response.status;

describe('a fleet in the list and on dashboards', () => {
  it('is one row, its parent, unless the list is filtered to a tenant; tiles count it once', async () => {
    const before = { all: await activeTile(owner), dev: await activeTile(owner, h.ids.dev) };
    const { parent, children } = await startFleet('all');
    expect(children).toHaveLength(2);

    for (const ids of [await listed(owner), await listed(owner, { bucket: 'active' })]) {
      expect(ids).toContain(parent.id);
      for (const child of children) expect(ids).not.toContain(child);
    }
    const devList = await listed(owner, { tenantId: h.ids.dev });
    expect(devList).not.toContain(parent.id);
    expect(children.filter((c) => devList.includes(c))).toHaveLength(1);

    const counts = await owner.GET('/api/workspaces/{ws}/operations/counts', { params: ws });
    const activeIds = await listed(owner, { bucket: 'active' });
    expect(counts.data?.counts.active).toBe(activeIds.length);
    expect(await activeTile(owner)).toBe((before.all ?? 0) + 1);
    expect(await activeTile(owner, h.ids.dev)).toBe((before.dev ?? 0) + 1);
  });

  it('still lists a child that is likely stale among the stale runs (a parent never is)', async () => {
    const { parent, children } = await startFleet(['contoso-dev']);
    const child = children[0] as string;
    const dayAgo = new Date(Date.now() - 86_400_000);
    // A worker that took the child and went silent a day ago (the row back-dated, as a test may).
    await h.db
      .updateTable('operation_runs')
      .set({ status: 'running', attempt: 1, started_at: dayAgo, last_heartbeat_at: dayAgo })
      .where('id', '=', child)
      .execute();
    const stale = await owner.GET('/api/workspaces/{ws}/operations', {
      params: { ...ws, query: { bucket: 'active_stale', limit: 200 } },
    });
    const ids = stale.data?.items.map((r) => r.id) ?? [];
    expect(ids).toContain(child);
    expect(ids).not.toContain(parent.id);
    expect(await listed(owner)).not.toContain(child);
  });
});

describe('a fleet of a flow-controlled type', () => {
  it("holds its children in their tenants' lanes until an admission pass lets them go", async () => {
    const started = await owner.POST('/api/workspaces/{ws}/fleet-operations', {
      params: ws,
      body: { type: 'graph.sync', tenants: 'all', input: { n: ++n } },
    });
    expect(started.response.status, JSON.stringify(started.error)).toBe(202);
    const parent = started.data?.run.id as string;
    const children = () =>
      h.db
        .selectFrom('operation_runs')
        .select(['id', 'tenant_id', 'held', 'queue_job_id'])
        .where('parent_id', '=', parent)
        .execute();
    const held = await children();
    expect(held.map((c) => c.held)).toEqual([true, true]);
    const lanes = await h.db
      .selectFrom('flow_lanes')
      .select('tenant_key')
      .where('type', '=', 'graph.sync')
      .where('active', '=', true)
      .execute();
    for (const child of held) expect(lanes.map((l) => l.tenant_key)).toContain(child.tenant_id);
    const pass = await h.admit();
    expect(pass.admitted.map((r) => r.id)).toEqual(expect.arrayContaining(held.map((c) => c.id)));
    expect((await children()).map((c) => c.held)).toEqual([false, false]);
  });
});

describe('a tenant-restricted member and a fleet', () => {
  it('sees a parent all of whose tenants are theirs, as one row, with its children', async () => {
    const { parent, children } = await startFleet(['contoso-dev']);
    const ids = await listed(devOnly);
    expect(ids).toContain(parent.id);
    expect(ids).not.toContain(children[0]);
    expect(await detailStatus(devOnly, parent.id)).toBe(200);
    const kids = await devOnly.GET('/api/operations/{id}/children', {
      params: { path: { id: parent.id } },
    });
    expect(kids.data?.items.map((k) => k.id)).toEqual(children);
  });

  it('sees only their children of a fleet over other tenants too, never its parent', async () => {
    const { parent, children } = await startFleet('all');
    const ids = await listed(devOnly);
    expect(ids).not.toContain(parent.id);
    const mine = children.filter((c) => ids.includes(c));
    expect(mine).toHaveLength(1);
    expect(await detailStatus(devOnly, mine[0] as string)).toBe(200);
    expect(await detailStatus(devOnly, parent.id)).toBe(404);
    const kids = await devOnly.GET('/api/operations/{id}/children', {
      params: { path: { id: parent.id } },
    });
    expect(kids.response.status).toBe(404);
    const cancel = await devOnly.POST('/api/operations/{id}/cancel', {
      params: { path: { id: parent.id } },
    });
    expect(cancel.response.status).toBe(404);
    const retry = await devOnly.POST('/api/operations/{id}/retry-failed', {
      params: { path: { id: parent.id } },
    });
    expect(retry.response.status).toBe(404);
  });
});

describe('POST /api/operations/:id/retry-failed', () => {
  it('starts a new fleet over the tenants that did not succeed, linked to the old one', async () => {
    const { parent } = await startFleet('all');
    const retry = (api: RunwardenClient, id = parent.id) =>
      api.POST('/api/operations/{id}/retry-failed', { params: { path: { id } } });
    expect((await retry(owner)).response.status).toBe(409); // still running
    await owner.POST('/api/operations/{id}/cancel', { params: { path: { id: parent.id } } });

    expect((await retry(readonly)).response.status).toBe(403);
    expect((await retry(outsider)).response.status).toBe(404);
    const again = await retry(owner);
    expect(again.response.status).toBe(202);
    expect(again.data?.children).toEqual({ started: 2, reused: 0, skipped: 0 });
    expect(again.data?.run).toMatchObject({ retryOf: parent.id, fleet: { total: 2 } });
    const old = await owner.GET('/api/operations/{id}', { params: { path: { id: parent.id } } });
    expect(old.data).toMatchObject({ status: 'completed', outcome: 'cancelled' });

    const plain = await owner.POST('/api/workspaces/{ws}/operations', {
      params: ws,
      body: { type: 'policy.sync_one', tenantId: h.ids.dev, input: { policyId: `p${++n}` } },
    });
    expect((await retry(owner, plain.data?.run.id as string)).response.status).toBe(404);
  });
});
