import { beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import type { RunwardenClient } from '../../src/client/index.js';
import { flowHarness } from './flow-support.js';

// DESIGN §17: a tenant's weight (its share of flow-controlled execution) is a directory attribute,
// 1–1000, default 1, written only by the directory module: over HTTP, by the library, by a sync.

const h = await flowHarness();
let owner: RunwardenClient;
const ws = { path: { ws: 'contoso' } };

beforeAll(async () => {
  owner = h.as(await h.login('owner@demo.test'));
});

const put = (slug: string, body: Record<string, unknown>) =>
  owner.PUT('/api/workspaces/{ws}/tenants/{slug}', {
    params: { path: { ws: 'contoso', slug } },
    body: body as never,
  });
const weightOf = async (slug: string) =>
  (await owner.GET('/api/workspaces/{ws}/tenants', { params: ws })).data?.items.find(
    (t) => t.slug === slug,
  )?.weight;

describe("a tenant's weight", () => {
  it('is 1 unless set, is set over HTTP, shown in the list, audited, and kept when a write omits it', async () => {
    expect(await weightOf('contoso-prod')).toBe(1);
    const set = await put('contoso-prod', { name: 'Contoso Prod', weight: 5 });
    expect(set.response.status).toBe(200);
    expect(set.data).toMatchObject({ slug: 'contoso-prod', weight: 5 });
    expect(await weightOf('contoso-prod')).toBe(5);
    const renamed = await put('contoso-prod', { name: 'Contoso Production' });
    expect(renamed.data).toMatchObject({ name: 'Contoso Production', weight: 5 });
    const created = await put('contoso-heavy', { name: 'Contoso Heavy', weight: 1000 });
    expect(created.response.status).toBe(201);
    expect(created.data?.weight).toBe(1000);
    const audit = await h.db
      .selectFrom('audit_log')
      .select('details')
      .where('target_id', '=', h.ids.prod)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.details)).toContainEqual(
      expect.objectContaining({ weight: { from: 1, to: 5 } }),
    );
  });

  it.each([[0], [1001], [2.5], ['3']])(
    'refuses weight %j with a 400, changing nothing',
    async (weight) => {
      const res = await put('contoso-dev', { name: 'Contoso Dev', weight });
      expect(res.response.status).toBe(400);
      expect(res.error?.error.code).toBe('validation_failed');
      expect(await weightOf('contoso-dev')).toBe(1);
    },
  );

  it("is written by the library's directory and by a directory file, and refused there when out of range", async () => {
    const directory = createDirectory({ db: h.db, publicUrl: null });
    const tenant = await directory.upsertTenant({
      workspace: 'contoso',
      slug: 'contoso-dev',
      name: 'Contoso Dev',
      weight: 3,
    });
    expect(tenant.tenant.weight).toBe(3);
    await expect(
      directory.upsertTenant({ workspace: 'contoso', slug: 'contoso-dev', name: 'Dev', weight: 0 }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    const synced = await directory.sync({
      workspaces: [
        {
          slug: 'fabrikam',
          name: 'Fabrikam',
          tenants: [{ slug: 'fabrikam-prod', name: 'Fabrikam Prod', weight: 7 }],
        },
      ],
    });
    expect(synced.changes).toContainEqual(
      expect.objectContaining({ kind: 'tenant', key: 'fabrikam/fabrikam-prod' }),
    );
    const row = await h.db
      .selectFrom('tenants')
      .select('weight')
      .where('id', '=', h.ids.fabrikamProd)
      .executeTakeFirstOrThrow();
    expect(row.weight).toBe(7);
    expect(await weightOf('contoso-dev')).toBe(3);
    await expect(
      directory.sync({
        workspaces: [
          { slug: 'fabrikam', name: 'Fabrikam', tenants: [{ slug: 'x', name: 'X', weight: 5000 }] },
        ],
      }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });
});
