import { beforeAll, describe, expect, it } from 'vitest';
import type { RunwardenClient } from '../../src/client/index.js';
import { flowHarness } from './flow-support.js';

// DESIGN §11, §19 over real HTTP with the generated client (every answer checked against the
// OpenAPI document): start a fleet, read its children, cancel it; who may, and who gets a 404.

const h = await flowHarness();
let ownerApi: RunwardenClient;
let readonlyApi: RunwardenClient;
let outsiderApi: RunwardenClient;
let restrictedApi: RunwardenClient;
const ws = { path: { ws: 'contoso' } };
let n = 0;

beforeAll(async () => {
  ownerApi = h.as(await h.login('owner@demo.test'));
  readonlyApi = h.as(await h.login('readonly@demo.test'));
  outsiderApi = h.as(await h.login('outsider@demo.test'));
  restrictedApi = h.as(await h.member('dev-fleet@demo.test', 'manager', [h.ids.dev]));
});

const start = (api: RunwardenClient, tenants: 'all' | string[], type = 'inventory.sync') =>
  api.POST('/api/workspaces/{ws}/fleet-operations', {
    params: ws,
    body: { type, tenants, input: { n: ++n } },
  });
const children = (api: RunwardenClient, id: string, bucket?: 'active' | 'succeeded') =>
  api.GET('/api/operations/{id}/children', {
    params: { path: { id }, query: bucket ? { bucket } : {} },
  });

describe('POST /api/workspaces/:ws/fleet-operations', () => {
  it('starts a parent and a child per active tenant; the views link them', async () => {
    const started = await start(ownerApi, 'all');
    expect(started.response.status).toBe(202);
    const parent = started.data?.run;
    if (!parent) throw new Error('no parent');
    expect(started.data?.children).toEqual({ started: 2, reused: 0, skipped: 1 });
    expect(parent).toMatchObject({
      tenantId: null,
      parentId: null,
      fleet: { total: 2, finished: 0, byOutcome: { succeeded: 0, failed: 0 } },
    });
    expect(parent.truth.headline).toBe('0 of 2 tenants done');

    const kids = await children(ownerApi, parent.id);
    expect(kids.response.status).toBe(200);
    expect(kids.data?.items.map((k) => k.parentId)).toEqual([parent.id, parent.id]);
    expect(kids.data?.items.map((k) => k.fleet)).toEqual([null, null]);
    expect(new Set(kids.data?.items.map((k) => k.tenantId))).toEqual(
      new Set([h.ids.prod, h.ids.dev]),
    );
    expect((await children(ownerApi, parent.id, 'succeeded')).data?.items).toEqual([]);
    const detail = await ownerApi.GET('/api/operations/{id}', {
      params: { path: { id: parent.id } },
    });
    expect(detail.data?.fleet?.total).toBe(2);

    // Cancelling the parent cancels its queued children at once, and so the parent.
    const cancelled = await ownerApi.POST('/api/operations/{id}/cancel', {
      params: { path: { id: parent.id } },
    });
    expect(cancelled.data).toMatchObject({
      effect: 'cancelled',
      run: { status: 'completed', outcome: 'cancelled', fleet: { finished: 2 } },
    });
    const after = await children(ownerApi, parent.id);
    expect(after.data?.items.map((k) => k.outcome)).toEqual(['cancelled', 'cancelled']);
  });

  it('refuses what is not a fleet: bad bodies are 400, a workspace type 422', async () => {
    const extra = await ownerApi.POST('/api/workspaces/{ws}/fleet-operations', {
      params: ws,
      body: { type: 'inventory.sync', tenants: 'all', input: {}, tenant: 'x' } as never,
    });
    expect(extra.response.status).toBe(400);
    expect((await start(ownerApi, [])).response.status).toBe(400);
    const workspaceType = await start(ownerApi, 'all', 'review_pack.generate');
    expect(workspaceType.response.status).toBe(422);
    expect((await start(ownerApi, ['contoso-legacy'])).response.status).toBe(422);
  });

  it('needs the right to start on every tenant; another workspace sees nothing', async () => {
    expect((await start(readonlyApi, 'all')).response.status).toBe(403);
    expect((await start(outsiderApi, 'all')).response.status).toBe(404);
    expect((await start(restrictedApi, 'all')).response.status).toBe(403);
    expect((await start(restrictedApi, ['contoso-prod'])).response.status).toBe(404);
    const own = await start(restrictedApi, ['contoso-dev']);
    expect(own.response.status).toBe(202);
    expect(own.data?.children).toEqual({ started: 1, reused: 0, skipped: 0 });

    const parent = (await start(ownerApi, ['contoso-prod'])).data?.run.id as string;
    expect((await children(outsiderApi, parent)).response.status).toBe(404);
    const cancel = await outsiderApi.POST('/api/operations/{id}/cancel', {
      params: { path: { id: parent } },
    });
    expect(cancel.response.status).toBe(404);
  });
});
