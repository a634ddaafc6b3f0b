import { beforeAll, describe, expect, it } from 'vitest';
import { apiHarness, type Caller, rowCounts } from '../support/http.js';

// DESIGN §11, §15: a start over HTTP names its tenant as the library's does, by `tenantId` or by
// `tenant` (the slug); a slug that names no tenant the caller may see, or two names that disagree,
// is refused and starts nothing.

const h = await apiHarness();
let owner: Caller;
let restricted: Caller;

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  restricted = await h.login('restricted@demo.test');
});

const start = (caller: Caller, body: Record<string, unknown>) =>
  h.request(caller, {
    method: 'POST',
    url: '/api/workspaces/contoso/operations',
    payload: { type: 'demo.sleep', ...body },
  });

describe('starting a run with a tenant slug', () => {
  it('starts it on the tenant the slug names', async () => {
    const res = await start(owner, { tenant: 'contoso-prod', input: { seconds: 60, tag: 'slug' } });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().run.tenantId).toBe(h.ids.prod);
    expect(res.json().reused).toBe(false);
    // The same start by id is the same run.
    const byId = await start(owner, { tenantId: h.ids.prod, input: { seconds: 60, tag: 'slug' } });
    expect(byId.json()).toMatchObject({ reused: true, run: { id: res.json().run.id } });
  });

  it('takes both when they name the same tenant', async () => {
    const res = await start(owner, {
      tenant: 'contoso-dev',
      tenantId: h.ids.dev,
      input: { seconds: 60, tag: 'both' },
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().run.tenantId).toBe(h.ids.dev);
  });

  it('refuses, writing nothing, what names no tenant it may use', async () => {
    const before = await rowCounts(h.t);
    const cases = [
      // tenant and tenantId disagree
      {
        caller: owner,
        body: { tenant: 'contoso-prod', tenantId: h.ids.dev },
        status: 400,
        code: 'validation_failed',
      },
      // no such slug; another workspace's tenant; a tenant the member may not see: one answer
      { caller: owner, body: { tenant: 'contoso-nope' }, status: 404, code: 'not_found' },
      { caller: owner, body: { tenant: 'fabrikam-prod' }, status: 404, code: 'not_found' },
      { caller: restricted, body: { tenant: 'contoso-prod' }, status: 404, code: 'not_found' },
      // not a slug at all
      { caller: owner, body: { tenant: 'Contoso Prod' }, status: 400, code: 'validation_failed' },
      // an inactive tenant, as by id
      { caller: owner, body: { tenant: 'contoso-legacy' }, status: 409, code: 'tenant_inactive' },
    ];
    for (const { caller, body, status, code } of cases) {
      const res = await start(caller, { ...body, input: { seconds: 60, tag: 'refused' } });
      const what = `${caller.name} ${JSON.stringify(body)}: ${res.body}`;
      expect(res.statusCode, what).toBe(status);
      expect(res.json().error.code, what).toBe(code);
    }
    const hidden = await start(restricted, { tenant: 'contoso-prod', input: { seconds: 1 } });
    const missing = await start(restricted, { tenant: 'contoso-nope', input: { seconds: 1 } });
    expect(hidden.json()).toEqual(missing.json());
    expect(await rowCounts(h.t)).toEqual(before);
  });
});
