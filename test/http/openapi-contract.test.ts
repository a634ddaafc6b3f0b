import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Middleware } from 'openapi-fetch';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClient, type RunwardenClient } from '../../src/client/index.js';
import { apiHarness, DEMO_PASSWORD } from '../support/http.js';

// DESIGN §11: the OpenAPI document is the contract. The typed client (runwarden/client) drives
// the real API over HTTP, and every answer it gets — status, content type and body — must be one
// the document declares for that operation; an undeclared status fails the call.

interface Operation {
  operationId?: string;
  summary?: string;
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
interface Document {
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, object> };
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const h = await apiHarness();
let base: string;
let doc: Document;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
const compiled = new Map<string, ValidateFunction>();
/** How many requests the clients sent, and "METHOD /path status" of each answer checked. */
let sent = 0;
const checked: string[] = [];

function validatorFor(schema: object): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    // The document's components travel along, so `#/components/schemas/Error` resolves.
    validate = ajv.compile({ allOf: [schema], components: doc.components });
    compiled.set(key, validate);
  }
  return validate;
}

/** Fails the call when the answer is not one the document declares for its operation. */
const contract: Middleware = {
  onRequest() {
    sent++;
  },
  async onResponse({ request, response, schemaPath }) {
    const what = `${request.method} ${schemaPath} ${response.status}`;
    const operation = doc.paths[schemaPath]?.[request.method.toLowerCase()];
    if (!operation) throw new Error(`${what}: the operation is not in the document`);
    const declared = operation.responses[String(response.status)];
    if (!declared) throw new Error(`${what}: the status is not declared`);
    if (response.status === 204) {
      expect(await response.clone().text(), what).toBe('');
    } else {
      const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      const media = declared.content?.[type];
      if (!media) throw new Error(`${what}: content type "${type}" is not declared`);
      if (type === 'application/json') {
        const body: unknown = await response.clone().json();
        const validate = validatorFor(media.schema ?? {});
        if (!validate(body))
          throw new Error(
            `${what}: the body does not match the schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
          );
      }
    }
    checked.push(what);
  },
};

function client(options: { token?: string; headers?: Record<string, string> } = {}) {
  const api = createClient({ baseUrl: base, ...options });
  api.use(contract);
  return api;
}

let anonymous: RunwardenClient;
let session: RunwardenClient;
let cookieOnly: RunwardenClient;
let api: RunwardenClient;
const ws = { path: { ws: 'contoso' } };

beforeAll(async () => {
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as Document;
  anonymous = client();
});

describe('the OpenAPI document', () => {
  it('names, summarizes and secures every operation, with the session, CSRF and bearer schemes', () => {
    expect(doc.servers).toEqual([{ url: '/' }]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'bearer',
      'csrfToken',
      'session',
    ]);
    const ids = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods)) {
        const what = `${method} ${path}`;
        expect(op.operationId, what).toBeTruthy();
        expect(op.summary, what).toBeTruthy();
        expect(op.security, what).toBeDefined();
        ids.add(op.operationId as string);
      }
    expect(doc.paths['/api/health']?.get?.security).toEqual([]);
    expect(doc.paths['/api/auth/login']?.post?.security).toEqual([]);
    expect(doc.paths['/api/workspaces/{ws}/operations']?.post?.security).toEqual([
      { session: [], csrfToken: [] },
      { bearer: [] },
    ]);
    expect(doc.paths['/api/operations/{id}']?.get?.security).toEqual([
      { session: [] },
      { bearer: [] },
    ]);
    expect(Object.keys(doc.paths['/api/stream']?.get?.responses['200']?.content ?? {})).toEqual([
      'text/event-stream',
    ]);
    // Health answers its own shape, never the API's error body (no session is looked up there).
    expect(JSON.stringify(doc.paths['/api/health']?.get?.responses['503']?.content)).not.toContain(
      '#/components/schemas/Error',
    );
    expect(ids.size).toBe(Object.values(doc.paths).flatMap((m) => Object.keys(m)).length);
  });

  it('is the document Swagger UI loads, so its Authorize applies the same schemes', async () => {
    const ui = (await (await fetch(`${base}/api/docs/json`)).json()) as Document;
    expect(ui.components.securitySchemes).toEqual(doc.components.securitySchemes);
    expect(ui.paths).toEqual(doc.paths);
  });
});

describe('the API answers as its document says', () => {
  it('logs in with a cookie and CSRF token, and refuses what it should', async () => {
    expect((await anonymous.GET('/api/health')).response.status).toBe(200);
    expect((await anonymous.GET('/api/auth/demo')).response.status).toBe(200);
    const unauthenticated = await anonymous.GET('/api/me');
    expect(unauthenticated.error?.error.code).toBe('unauthenticated');

    const wrong = await anonymous.POST('/api/auth/login', {
      body: { email: 'owner@demo.test', password: 'not the password' },
    });
    expect(wrong.response.status).toBe(401);
    const invalid = await anonymous.POST('/api/auth/login', {
      body: { email: 'x', password: '' },
    });
    expect(invalid.error?.error.code).toBe('validation_failed');

    const login = await anonymous.POST('/api/auth/login', {
      body: { email: 'owner@demo.test', password: DEMO_PASSWORD },
    });
    expect(login.response.status).toBe(200);
    const cookie = login.response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0] as string)
      .find((c) => c.startsWith('runwarden_session='));
    if (!cookie || !login.data) throw new Error('login set no session cookie');
    session = client({ headers: { cookie, 'x-csrf-token': login.data.csrfToken } });
    cookieOnly = client({ headers: { cookie } });

    const me = await session.GET('/api/me');
    expect(me.data?.user.email).toBe('owner@demo.test');
    const noCsrf = await cookieOnly.POST('/api/workspaces/{ws}/tokens', {
      params: ws,
      body: { name: 'no csrf', role: 'readonly' },
    });
    expect(noCsrf.error?.error.code).toBe('csrf_invalid');
  });

  it('creates an API token that then works as a bearer token', async () => {
    const created = await session.POST('/api/workspaces/{ws}/tokens', {
      params: ws,
      body: { name: 'contract', role: 'manager' },
    });
    expect(created.response.status).toBe(201);
    api = client({ token: created.data?.token });
    const listed = await api.GET('/api/workspaces/{ws}/tokens', { params: ws });
    expect(listed.response.status).toBe(403); // a manager token may not manage tokens
    expect((await session.GET('/api/workspaces/{ws}/tokens', { params: ws })).data?.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: created.data?.id })]),
    );
    expect((await api.GET('/api/me')).data?.csrfToken).toBeNull();
    const bad = await anonymous.GET('/api/me', { headers: { authorization: 'Bearer rwt_nope' } });
    expect(bad.response.status).toBe(401);
    const spare = await session.POST('/api/workspaces/{ws}/tokens', {
      params: ws,
      body: { name: 'spare', role: 'readonly' },
    });
    const revoke = { path: { ws: 'contoso', id: spare.data?.id as string } };
    const revoked = await session.DELETE('/api/workspaces/{ws}/tokens/{id}', { params: revoke });
    expect(revoked.response.status).toBe(204);
  });

  it('starts, lists, shows and cancels a run', async () => {
    expect((await api.GET('/api/operation-types')).data?.length).toBeGreaterThan(0);
    const started = await api.POST('/api/workspaces/{ws}/operations', {
      params: ws,
      body: { type: 'demo.sleep', tenantId: h.ids.prod, input: { seconds: 600, tag: 'contract' } },
    });
    expect(started.response.status).toBe(202);
    const id = started.data?.run.id as string;
    const run = { path: { id } };

    const list = await api.GET('/api/workspaces/{ws}/operations', {
      params: { ...ws, query: { bucket: 'active', limit: 5 } },
    });
    expect(list.data?.items.map((r) => r.id)).toContain(id);
    const counts = await api.GET('/api/workspaces/{ws}/operations/counts', { params: ws });
    expect(counts.data?.counts.active).toBeGreaterThan(0);
    const summary = await api.GET('/api/workspaces/{ws}/operations/summary', { params: ws });
    expect(summary.data?.activeFresh).toBeGreaterThan(0);
    const detail = await api.GET('/api/operations/{id}', { params: run });
    expect(detail.data?.timeline.length).toBeGreaterThan(0);

    const cancelled = await session.POST('/api/operations/{id}/cancel', { params: run });
    expect(cancelled.data?.effect).toBe('cancelled');
    const again = await api.POST('/api/operations/{id}/cancel', { params: run });
    expect(again.error?.error.code).toBe('conflict');
    expect((await session.GET('/api/notifications')).response.status).toBe(200);
  });

  it('takes an external run through its reports with the API token', async () => {
    const started = await api.POST('/api/workspaces/{ws}/operations', {
      params: ws,
      body: { type: 'restore.execute', tenantId: h.ids.prod, input: { restoreRunId: 'c-1' } },
    });
    const run = { path: { id: started.data?.run.id as string } };
    const byCookie = await session.POST('/api/operations/{id}/heartbeat', {
      params: run,
      body: { state: 'previewed' },
    });
    expect(byCookie.error?.error.code).toBe('forbidden');
    const beat = await api.POST('/api/operations/{id}/heartbeat', {
      params: run,
      body: { state: 'previewed' },
    });
    expect(beat.data?.run.status).toBe('queued');
    const unknownState = await api.POST('/api/operations/{id}/heartbeat', {
      params: run,
      body: { state: 'exploding' },
    });
    expect(unknownState.response.status).toBe(422);
    const progress = await api.POST('/api/operations/{id}/progress', {
      params: run,
      body: { processed: 3, total: 10, counts: { items: 3 } },
    });
    expect(progress.data?.run.progress).toEqual({ processed: 3, total: 10 });
    const done = await api.POST('/api/operations/{id}/complete', {
      params: run,
      body: { outcome: 'succeeded', counts: { items: 10 } },
    });
    expect(done.data?.run.outcome).toBe('succeeded');
    const late = await api.POST('/api/operations/{id}/complete', {
      params: run,
      body: { outcome: 'failed' },
    });
    expect(late.error?.error.code).toBe('conflict');
  });

  it('answers 404, 400 and 422 with the error body', async () => {
    const missing = await api.GET('/api/operations/{id}', {
      params: { path: { id: '0190aaaa-0000-7000-8000-000000000000' } },
    });
    expect(missing.error?.error.code).toBe('not_found');
    const notUuid = await api.GET('/api/operations/{id}', { params: { path: { id: 'nope' } } });
    expect(notUuid.error?.error.code).toBe('validation_failed');
    const elsewhere = await api.GET('/api/workspaces/{ws}/operations', {
      params: { path: { ws: 'fabrikam' } },
    });
    expect(elsewhere.response.status).toBe(404);
    const badCursor = await api.GET('/api/workspaces/{ws}/operations', {
      params: { ...ws, query: { cursor: 'forged' } },
    });
    expect(badCursor.error?.error.code).toBe('invalid_cursor');
    const unknownType = await api.POST('/api/workspaces/{ws}/operations', {
      params: ws,
      body: { type: 'no.such.type', input: {} },
    });
    expect(unknownType.error?.error.code).toBe('unknown_type');
    const staffOnly = await api.GET('/api/system/ops/stuck');
    expect(staffOnly.response.status).toBe(404);
  });

  it('streams run changes as text/event-stream', async () => {
    const stream = await api.GET('/api/stream', {
      params: { query: { workspace: 'contoso' } },
      parseAs: 'stream',
    });
    expect(stream.response.status).toBe(200);
    await stream.response.body?.cancel();
  });

  it('logs out', async () => {
    expect((await session.POST('/api/auth/logout')).data).toEqual({ ok: true });
    expect((await session.GET('/api/me')).response.status).toBe(401);
  });

  it('checked every answer above against the document', () => {
    expect(checked.length).toBe(sent);
    for (const status of ['200', '201', '202', '204', '400', '401', '403', '404', '409', '422'])
      expect(
        checked.some((c) => c.endsWith(` ${status}`)),
        status,
      ).toBe(true);
  });
});

describe('the contract check itself', () => {
  const check = (method: string, schemaPath: string, response: Response) =>
    contract.onResponse?.({
      request: new Request(`${base}${schemaPath}`, { method }),
      response,
      schemaPath,
      params: {},
      id: 'self-test',
      options: {} as never,
    });
  const json = (body: unknown, status: number) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('refuses a status the operation does not declare', async () => {
    await expect(check('GET', '/api/health', json({}, 418))).rejects.toThrow(/not declared/);
  });

  it('refuses a body that does not match the schema', async () => {
    const unhealthy = json({ error: { code: 'database_unavailable', message: 'down' } }, 503);
    await expect(check('GET', '/api/health', unhealthy)).rejects.toThrow(/does not match/);
    const undeclaredCode = json({ error: { code: 'teapot', message: 'no' } }, 404);
    await expect(check('GET', '/api/operations/{id}', undeclaredCode)).rejects.toThrow(
      /does not match/,
    );
  });
});
