import { beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/domain/uuid.js';
import { apiHarness, type Caller } from '../support/http.js';
import {
  type As,
  badInputCallers,
  type Case,
  checkRefused,
  denied,
  directoryState,
  send,
  v,
} from './directory-support.js';

// DESIGN §11 for the directory routes (issue #12): every bad request answers a 4xx
// `{error:{code,message}}` and leaves the directory exactly as it was, row by row.
// Workspaces, tenants and member upserts here; removals, tokens and passwords in
// bad-input-access.test.ts.

const h = await apiHarness();
let callers: Record<As, Caller | undefined>;

const WS = '/api/workspaces';
const TENANTS = '/api/workspaces/contoso/tenants';
const MEMBERS = '/api/workspaces/contoso/members';

beforeAll(async () => {
  callers = await badInputCallers(h);
});

const member = (email: string, body: unknown) => send('PUT', `${MEMBERS}/${email}`, body);
const tenant = (slug: string, body: unknown) => send('PUT', `${TENANTS}/${slug}`, body);

const CASES: Case[] = [
  // ── POST /api/workspaces (platform.directory) ──────────────────────────────────────────────
  v(
    'workspace: slug with capitals and spaces',
    () => send('POST', WS, { slug: 'Not A Slug', name: 'X' }),
    'staff',
  ),
  v(
    'workspace: slug of 65 characters',
    () => send('POST', WS, { slug: 'a'.repeat(65), name: 'X' }),
    'staff',
  ),
  v(
    'workspace: slug ending in a dash',
    () => send('POST', WS, { slug: 'acme-', name: 'X' }),
    'staff',
  ),
  v('workspace: slug as a number', () => send('POST', WS, { slug: 42, name: 'X' }), 'staff'),
  v('workspace: blank name', () => send('POST', WS, { slug: 'initech', name: '  ' }), 'staff'),
  v(
    'workspace: name of 201 characters',
    () => send('POST', WS, { slug: 'initech', name: 'n'.repeat(201) }),
    'staff',
  ),
  v('workspace: name missing', () => send('POST', WS, { slug: 'initech' }), 'staff'),
  v(
    'workspace: an unknown field',
    () => send('POST', WS, { slug: 'initech', name: 'I', owner: 'me@x.example' }),
    'staff',
  ),
  denied(
    'workspace: a workspace owner',
    'owner',
    () => send('POST', WS, { slug: 'initech', name: 'I' }),
    404,
  ),
  denied(
    'workspace: platform staff without platform.directory',
    'platform',
    () => send('POST', WS, { slug: 'initech', name: 'I' }),
    403,
  ),
  denied('workspace: anonymous', 'anonymous', () =>
    send('POST', WS, { slug: 'initech', name: 'I' }),
  ),

  // ── PUT /api/workspaces/:ws/tenants/:slug ──────────────────────────────────────────────────
  v('tenant: slug with capitals and a space', () => tenant('Bad%20Slug', { name: 'X' })),
  v('tenant: slug of 65 characters', () => tenant('t'.repeat(65), { name: 'X' })),
  v('tenant: unknown status', () => tenant('contoso-qa', { name: 'QA', status: 'paused' })),
  v('tenant: blank name', () => tenant('contoso-qa', { name: '' })),
  v('tenant: name of 201 characters', () => tenant('contoso-qa', { name: 'n'.repeat(201) })),
  v('tenant: no body', () => tenant('contoso-qa', undefined)),
  v('tenant: an unknown field (a misspelt status)', () =>
    tenant('contoso-prod', { name: 'Contoso Production', stauts: 'inactive' }),
  ),
  denied('tenant: an operator', 'operator', () => tenant('contoso-qa', { name: 'QA' })),
  denied('tenant: a readonly token', 'readonlyToken', () => tenant('contoso-qa', { name: 'QA' })),
  denied('tenant: an outsider', 'outsider', () => tenant('contoso-qa', { name: 'QA' })),
  denied('tenant: platform staff without platform.directory', 'platform', () =>
    tenant('contoso-qa', { name: 'QA' }),
  ),
  denied('tenant: anonymous', 'anonymous', () => tenant('contoso-qa', { name: 'QA' })),
  denied('tenant: cookie without x-csrf-token', 'noCsrf', () =>
    tenant('contoso-qa', { name: 'QA' }),
  ),
  {
    name: 'tenant: unknown workspace',
    request: () => send('PUT', `${WS}/nowhere/tenants/qa`, { name: 'QA' }),
    status: 404,
    code: 'not_found',
  },
  denied('tenants list: an operator', 'operator', () => send('GET', TENANTS)),
  denied('tenants list: an outsider', 'outsider', () => send('GET', TENANTS)),

  // ── PUT /api/workspaces/:ws/members/:email ─────────────────────────────────────────────────
  v('member: malformed email', () => member('not-an-email', { role: 'readonly', tenantIds: null })),
  v('member: email with two @', () =>
    member('a@b@demo.test', { role: 'readonly', tenantIds: null }),
  ),
  {
    name: 'member: email of 255 characters',
    request: () => member(`${'e'.repeat(245)}@demo.test`, { role: 'readonly', tenantIds: null }),
    status: [400, 414],
    code: ['validation_failed', 'bad_url'],
  },
  v('member: unknown role', () => member('new@demo.test', { role: 'superuser', tenantIds: null })),
  v('member: role missing', () => member('new@demo.test', { tenantIds: null })),
  v('member: tenantIds missing', () => member('new@demo.test', { role: 'readonly' })),
  v("member: tenantIds naming another workspace's tenant", () =>
    member('new@demo.test', { role: 'operator', tenantIds: [h.ids.fabrikamProd] }),
  ),
  v("member: an existing member restricted to another workspace's tenant", () =>
    member('readonly@demo.test', { role: 'readonly', tenantIds: [h.ids.dev, h.ids.fabrikamProd] }),
  ),
  v('member: tenantIds naming no tenant', () =>
    member('new@demo.test', { role: 'operator', tenantIds: [uuidv7()] }),
  ),
  v('member: tenantIds that are not uuids', () =>
    member('new@demo.test', { role: 'operator', tenantIds: ['contoso-prod'] }),
  ),
  v('member: 1001 tenantIds', () =>
    member('new@demo.test', {
      role: 'operator',
      tenantIds: Array.from({ length: 1001 }, () => h.ids.dev),
    }),
  ),
  v('member: name of 201 characters', () =>
    member('new@demo.test', { role: 'readonly', tenantIds: null, name: 'n'.repeat(201) }),
  ),
  v('member: an unknown field', () =>
    member('readonly@demo.test', {
      role: 'readonly',
      tenantIds: null,
      platform: ['platform.directory'],
    }),
  ),
  {
    name: 'member: the last owner demoting themselves',
    request: () => member('owner@demo.test', { role: 'manager', tenantIds: null }),
    status: 409,
    code: 'conflict',
  },
  {
    name: 'member: platform staff demoting the last owner',
    as: 'staff',
    request: () => member('owner@demo.test', { role: 'readonly', tenantIds: null }),
    status: 409,
    code: 'conflict',
  },
  {
    name: 'member: the only owner restricting themselves to one tenant (an owner who could manage lost)',
    request: () => member('owner@demo.test', { role: 'owner', tenantIds: [h.ids.dev] }),
    status: 409,
    code: 'conflict',
  },
  v('member: a name holding a NUL byte', () =>
    member('new@demo.test', { role: 'readonly', tenantIds: null, name: 'Nul\u0000l' }),
  ),
  v('member: an email holding a NUL byte', () =>
    member('new%00@demo.test', { role: 'readonly', tenantIds: null }),
  ),
  v('tenant: a name holding a NUL byte', () => tenant('contoso-qa', { name: 'QA\u0000' })),
  v(
    'workspace: a name holding a NUL byte',
    () => send('POST', WS, { slug: 'initech', name: 'I\u0000' }),
    'staff',
  ),
  {
    name: 'member: malformed JSON',
    request: () => ({
      ...member('new@demo.test', undefined),
      payload: '{"role":"owner",',
      headers: { 'content-type': 'application/json' },
    }),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'member: a body that is not JSON',
    request: () => ({
      ...member('new@demo.test', undefined),
      payload: 'role=owner',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }),
    status: 415,
    code: 'unsupported_media_type',
  },
  v('member: a JSON array as body', () =>
    member('new@demo.test', [{ role: 'owner', tenantIds: null }]),
  ),
  {
    name: 'tenants list: another workspace by its id',
    request: () => send('GET', `${WS}/${h.ids.fabrikam}/tenants`),
    status: 404,
    code: 'not_found',
  },
  {
    // Fastify refuses a path parameter over 100 characters itself (414), before the schema.
    name: 'tenants list: a workspace reference of 101 characters',
    request: () => send('GET', `${WS}/${'w'.repeat(101)}/tenants`),
    status: [400, 414],
    code: ['validation_failed', 'bad_url'],
  },
  denied('member: an operator adding a member', 'operator', () =>
    member('new@demo.test', { role: 'readonly', tenantIds: null }),
  ),
  denied('member: an operator promoting themselves', 'operator', () =>
    member('operator@demo.test', { role: 'owner', tenantIds: null }),
  ),
  denied('member: a readonly token', 'readonlyToken', () =>
    member('new@demo.test', { role: 'readonly', tenantIds: null }),
  ),
  denied('member: an outsider', 'outsider', () =>
    member('new@demo.test', { role: 'owner', tenantIds: null }),
  ),
  denied('member: anonymous', 'anonymous', () =>
    member('new@demo.test', { role: 'owner', tenantIds: null }),
  ),
  denied('member: cookie without x-csrf-token', 'noCsrf', () =>
    member('new@demo.test', { role: 'owner', tenantIds: null }),
  ),
  denied('members list: an operator', 'operator', () => send('GET', MEMBERS)),
  denied('members list: an outsider', 'outsider', () => send('GET', MEMBERS)),
];

describe('bad input to the directory routes never yields a 500 and never changes stored state', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await checkRefused(h, callers, c);
  });
});

describe('a slug that exists is an upsert, never a second row', () => {
  it('POST /api/workspaces with an existing slug renames it (200) and makes no second workspace', async () => {
    const post = (name: string) =>
      h.request(callers.staff, send('POST', WS, { slug: 'initech', name }));
    expect((await post('Initech')).statusCode).toBe(201);
    const before = await directoryState(h);
    const same = await post('Initech');
    expect([same.statusCode, same.json()]).toEqual([
      200,
      expect.objectContaining({ slug: 'initech' }),
    ]);
    expect(await directoryState(h), 'the same again changes nothing').toEqual(before);
    const renamed = await post('Initech Corp');
    expect([renamed.statusCode, renamed.json().name]).toEqual([200, 'Initech Corp']);
    const rows = await h.db
      .selectFrom('workspaces')
      .select('id')
      .where('slug', '=', 'initech')
      .execute();
    expect(rows).toHaveLength(1);
  });

  it("PUT a tenant with a slug another workspace uses creates this workspace's own; theirs is untouched", async () => {
    const theirs = await h.db
      .selectFrom('tenants')
      .selectAll()
      .where('id', '=', h.ids.fabrikamProd)
      .executeTakeFirstOrThrow();
    const put = (name: string) => h.request(callers.owner, tenant('fabrikam-prod', { name }));
    const created = await put('Ours');
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().id).not.toBe(h.ids.fabrikamProd);
    const before = await directoryState(h);
    expect((await put('Ours')).statusCode).toBe(200);
    expect(await directoryState(h), 'the same again changes nothing').toEqual(before);
    expect(
      await h.db
        .selectFrom('tenants')
        .selectAll()
        .where('id', '=', h.ids.fabrikamProd)
        .executeTakeFirstOrThrow(),
    ).toEqual(theirs);
  });
});
