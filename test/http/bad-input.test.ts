import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiHarness, type Caller, rowCounts } from '../support/http.js';

// DESIGN §11: "bad input never yields a 500 and never changes stored state". Every case below
// is a request a client could send; each must answer a 4xx `{error:{code,message}}` and leave
// the database exactly as it was. The directory routes' tables: bad-input-directory.test.ts and
// bad-input-access.test.ts.

const h = await apiHarness();

type As = 'owner' | 'readonly' | 'token' | 'anonymous' | 'noCsrf' | 'forgedCsrf' | 'badToken';
const callers = {} as Record<As, Caller | undefined>;
/** A real cursor (limit=1 over the runs created below) and runs to report on. */
let cursor: string;
let externalRun: string;
let queueRun: string;

const START = '/api/workspaces/contoso/operations';
const LIST = '/api/workspaces/contoso/operations';
const LOGIN = '/api/auth/login';
const TOKENS = '/api/workspaces/contoso/tokens';

beforeAll(async () => {
  callers.owner = await h.login('owner@demo.test');
  callers.readonly = await h.login('readonly@demo.test');
  callers.anonymous = undefined;
  const { 'x-csrf-token': _csrf, ...cookieOnly } = callers.owner.headers;
  callers.noCsrf = { name: 'owner without csrf', headers: cookieOnly };
  callers.forgedCsrf = {
    name: 'owner with a forged csrf',
    headers: { ...cookieOnly, 'x-csrf-token': 'forged-token' },
  };
  callers.badToken = { name: 'bad token', headers: { authorization: 'Bearer rw_not_a_token' } };
  const created = await h.request(callers.owner, {
    method: 'POST',
    url: TOKENS,
    payload: { name: 'bad-input', role: 'operator' },
  });
  expect(created.statusCode).toBe(201);
  callers.token = { name: 'token', headers: { authorization: `Bearer ${created.json().token}` } };

  // Two runs of our own, so a limit=1 list surely has a next page; and an external run.
  for (const tag of ['bad-input-1', 'bad-input-2']) {
    const started = await h.request(callers.owner, {
      method: 'POST',
      url: START,
      payload: { type: 'demo.sleep', tenantId: h.ids.prod, input: { seconds: 60, tag } },
    });
    expect(started.statusCode).toBe(202);
    queueRun = started.json().run.id;
  }
  const external = await h.request(callers.token, {
    method: 'POST',
    url: START,
    payload: { type: 'restore.execute', tenantId: h.ids.prod, input: { restoreRunId: 'r-bad' } },
  });
  expect(external.statusCode).toBe(202);
  externalRun = external.json().run.id;
  const page = await h.request(callers.owner, { method: 'GET', url: `${LIST}?limit=1` });
  expect(page.statusCode).toBe(200);
  cursor = page.json().nextCursor;
  expect(cursor).toEqual(expect.any(String));
});

/** Every row count bad input could touch, plus every run's mutable columns. */
async function storedState() {
  const counts = await rowCounts(h.t);
  for (const table of ['audit_log', 'sessions', 'users', 'tenants', 'workspaces'] as const) {
    const row = await h.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  const runs = await h.db
    .selectFrom('operation_runs')
    .select([
      'id',
      'status',
      'outcome',
      'attempt',
      'progress_processed',
      'progress_total',
      'summary_counts',
      'started_at',
      'last_heartbeat_at',
      'cancel_requested_at',
      'updated_at',
    ])
    .orderBy('id')
    .execute();
  return { counts, runs };
}

/** A body sent byte for byte (for JSON `JSON.stringify` cannot produce). */
const raw = (
  method: 'POST' | 'GET',
  url: string,
  payload: string,
  contentType = 'application/json',
): InjectOptions => ({ method, url, payload, headers: { 'content-type': contentType } });
const post = (url: string, payload?: unknown): InjectOptions =>
  payload === undefined
    ? { method: 'POST', url }
    : { method: 'POST', url, payload: payload as InjectOptions['payload'] };
const get = (url: string): InjectOptions => ({ method: 'GET', url });
const start = (body: Record<string, unknown>) =>
  post(START, { type: 'demo.sleep', tenantId: h.ids.prod, input: { seconds: 1 }, ...body });
const sleep = (input: Record<string, unknown>) => start({ input });
const progress = (body: unknown, id = externalRun) => post(`/api/operations/${id}/progress`, body);
/** The text with the character at `at` replaced by a different one. */
const flip = (text: string, at: number) =>
  text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);

interface ErrorJson {
  error: { code: string; message: string; details?: unknown };
}

interface Case {
  name: string;
  /** Who sends it; the owner's session (cookie + CSRF) unless said otherwise. */
  as?: As;
  request: () => InjectOptions;
  status: number | number[];
  /** The error code; a list when more than one would be right. */
  code: string | string[];
  check?: (body: ErrorJson) => void;
}

const issuePaths = (body: ErrorJson) =>
  ((body.error.details as { issues?: Array<{ path: string }> })?.issues ?? []).map((i) => i.path);
const detailPaths = (body: ErrorJson) =>
  ((body.error.details as Array<{ path: string }>) ?? []).map((d) => d.path);

const CASES: Case[] = [
  // ── The body as bytes ──────────────────────────────────────────────────────────────────────
  {
    name: 'start: malformed JSON',
    request: () => raw('POST', START, '{"type":"demo.sleep",'),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'start: JSON with a trailing comma',
    request: () => raw('POST', START, '{"type":"demo.sleep",}'),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'start: text/plain body',
    request: () =>
      raw('POST', START, JSON.stringify({ type: 'demo.sleep', input: {} }), 'text/plain'),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'start: form-encoded body',
    request: () =>
      raw('POST', START, 'type=demo.sleep&input=1', 'application/x-www-form-urlencoded'),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'start: a 2 MB body',
    request: () =>
      raw(
        'POST',
        START,
        JSON.stringify({
          type: 'demo.sleep',
          tenantId: h.ids.prod,
          input: { seconds: 1, tag: 'big', pad: 'x'.repeat(2 * 1024 * 1024) },
        }),
      ),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'start: duplicate top-level key ("type" twice)',
    request: () =>
      raw(
        'POST',
        START,
        `{"type":"demo.sleep","type":"nope","tenantId":"${h.ids.prod}","input":{"seconds":1,"tag":"dup"}}`,
      ),
    status: 400,
    code: 'validation_failed',
    check: (body) => expect(detailPaths(body)).toEqual(['type']),
  },
  {
    name: 'start: duplicate key inside input',
    request: () =>
      raw(
        'POST',
        START,
        `{"type":"demo.sleep","tenantId":"${h.ids.prod}","input":{"seconds":1,"seconds":2,"tag":"dup2"}}`,
      ),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: duplicate key spelled with a unicode escape',
    request: () =>
      raw(
        'POST',
        START,
        `{"type":"nope","\\u0074ype":"demo.sleep","tenantId":"${h.ids.prod}","input":{"seconds":1,"tag":"dup3"}}`,
      ),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: __proto__ key in the body',
    request: () =>
      raw(
        'POST',
        START,
        `{"type":"demo.sleep","tenantId":"${h.ids.prod}","input":{"seconds":1,"tag":"proto"},"__proto__":{"admin":true}}`,
      ),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'start: a JSON array as body',
    request: () =>
      raw('POST', START, JSON.stringify([{ type: 'demo.sleep', tenantId: h.ids.prod }])),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: a bare JSON string as body',
    request: () => raw('POST', START, '"demo.sleep"'),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: JSON null as body',
    request: () => raw('POST', START, 'null'),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: no body at all',
    request: () => post(START),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: empty body declared as JSON',
    request: () => raw('POST', START, ''),
    status: 400,
    code: 'bad_request',
  },

  // ── The API schema of a start ──────────────────────────────────────────────────────────────
  {
    name: 'start: type missing',
    request: () => post(START, { tenantId: h.ids.prod, input: { seconds: 1 } }),
    status: 400,
    code: 'validation_failed',
    check: (body) => expect(detailPaths(body)).toContain('type'),
  },
  {
    name: 'start: type is a number',
    request: () => start({ type: 42 }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: type is 201 characters',
    request: () => start({ type: 'x'.repeat(201) }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: input is a string',
    request: () => start({ input: 'seconds=1' }),
    status: 400,
    code: 'validation_failed',
    check: (body) => expect(detailPaths(body)).toContain('input'),
  },
  {
    name: 'start: input is an array',
    request: () => start({ input: [1, 2] }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: tenantId is not a uuid',
    request: () => start({ tenantId: "contoso-prod' or 1=1 --", input: { seconds: 1 } }),
    status: 400,
    code: 'validation_failed',
    check: (body) => expect(detailPaths(body)).toContain('tenantId'),
  },

  // ── The operation's own rules ──────────────────────────────────────────────────────────────
  {
    name: 'start: unknown operation type',
    request: () => start({ type: 'nope.nothing' }),
    status: 422,
    code: 'unknown_type',
  },
  {
    name: 'start: a type that is a NUL byte',
    request: () => start({ type: '\u0000' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'start: demo.sleep without seconds',
    request: () => sleep({ tag: 'no-seconds' }),
    status: 422,
    code: 'invalid_input',
    check: (body) => expect(issuePaths(body)).toEqual(['seconds']),
  },
  {
    name: 'start: demo.sleep seconds is a string',
    request: () => sleep({ seconds: '10' }),
    status: 422,
    code: 'invalid_input',
    check: (body) => expect(issuePaths(body)).toEqual(['seconds']),
  },
  {
    name: 'start: demo.sleep seconds -1',
    request: () => sleep({ seconds: -1 }),
    status: 422,
    code: 'invalid_input',
    check: (body) => expect(issuePaths(body)).toEqual(['seconds']),
  },
  {
    name: 'start: demo.sleep seconds 1e12',
    request: () => sleep({ seconds: 1e12 }),
    status: 422,
    code: 'invalid_input',
    check: (body) => expect(issuePaths(body)).toEqual(['seconds']),
  },
  {
    name: 'start: demo.sleep seconds 1e400 (Infinity once parsed)',
    request: () =>
      raw(
        'POST',
        START,
        `{"type":"demo.sleep","tenantId":"${h.ids.prod}","input":{"seconds":1e400}}`,
      ),
    status: 422,
    code: 'invalid_input',
    check: (body) => expect(issuePaths(body)).toEqual(['seconds']),
  },
  {
    name: 'start: demo.sleep total 0.5 and outcome unknown',
    request: () => sleep({ seconds: 1, total: 0.5, outcome: 'explode' }),
    status: 422,
    code: 'invalid_input',
    check: (body) => expect(issuePaths(body).sort()).toEqual(['outcome', 'total']),
  },
  {
    name: 'start: demo.sleep tag of 201 characters',
    request: () => sleep({ seconds: 1, tag: 't'.repeat(201) }),
    status: 422,
    code: 'invalid_input',
    check: (body) => expect(issuePaths(body)).toEqual(['tag']),
  },
  {
    name: 'start: demo.sleep tag holding a NUL byte',
    request: () => sleep({ seconds: 1, tag: 'nul\u0000byte' }),
    status: [400, 422],
    code: ['validation_failed', 'invalid_input'],
  },
  {
    name: 'start: demo.sleep tag holding a lone surrogate',
    request: () =>
      raw(
        'POST',
        START,
        `{"type":"demo.sleep","tenantId":"${h.ids.prod}","input":{"seconds":1,"tag":"\\ud800"}}`,
      ),
    status: [400, 422],
    code: ['validation_failed', 'invalid_input'],
  },
  {
    name: 'start: tenant operation without a tenant',
    request: () => start({ tenantId: undefined, input: { seconds: 1, tag: 'no-tenant' } }),
    status: 422,
    code: 'invalid_input',
  },
  {
    name: 'start: workspace operation given a tenant',
    request: () => start({ type: 'review_pack.generate', input: {} }),
    status: 422,
    code: 'invalid_input',
  },
  {
    name: 'start: unknown tenant id (random uuid)',
    request: () => start({ tenantId: randomUUID(), input: { seconds: 1, tag: 'nobody' } }),
    status: 404,
    code: 'not_found',
  },
  {
    name: "start: another workspace's tenant",
    request: () => start({ tenantId: h.ids.fabrikamProd, input: { seconds: 1, tag: 'fab' } }),
    status: 404,
    code: 'not_found',
  },
  {
    name: 'start: inactive tenant (contoso-legacy): no run, no queue job',
    request: () => start({ tenantId: h.ids.legacy, input: { seconds: 1, tag: 'legacy' } }),
    status: 409,
    code: 'tenant_inactive',
    check: (body) =>
      expect(body.error.details).toMatchObject({ reasonCode: 'gate.tenant_inactive' }),
  },
  {
    name: 'start: unknown workspace',
    request: () => post('/api/workspaces/nowhere/operations', { type: 'demo.sleep', input: {} }),
    status: 404,
    code: 'not_found',
  },
  {
    // Fastify's router refuses path parameters over 100 characters before any route runs.
    name: 'start: workspace slug of 101 characters',
    request: () =>
      post(`/api/workspaces/${'w'.repeat(101)}/operations`, { type: 'demo.sleep', input: {} }),
    status: [400, 414],
    code: ['validation_failed', 'uri_too_long', 'bad_request', 'bad_url'],
  },

  // ── Who may start ──────────────────────────────────────────────────────────────────────────
  {
    name: 'start: anonymous',
    as: 'anonymous',
    request: () => sleep({ seconds: 1, tag: 'anon' }),
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'start: an unknown API token',
    as: 'badToken',
    request: () => sleep({ seconds: 1, tag: 'bad-token' }),
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'start: readonly member',
    as: 'readonly',
    request: () => sleep({ seconds: 1, tag: 'readonly' }),
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'start: session cookie without x-csrf-token',
    as: 'noCsrf',
    request: () => sleep({ seconds: 1, tag: 'no-csrf' }),
    status: 403,
    code: 'csrf_invalid',
  },
  {
    name: 'start: session cookie with a forged x-csrf-token',
    as: 'forgedCsrf',
    request: () => sleep({ seconds: 1, tag: 'forged-csrf' }),
    status: 403,
    code: 'csrf_invalid',
  },

  // ── Listing ────────────────────────────────────────────────────────────────────────────────
  ...['0', '100000', '-5', '201', '1.5', 'abc', '1e3', ''].map(
    (limit): Case => ({
      name: `list: limit=${limit}`,
      request: () => get(`${LIST}?limit=${limit}`),
      status: 400,
      code: 'validation_failed',
      check: (body) => expect(detailPaths(body)).toContain('limit'),
    }),
  ),
  {
    name: 'list: limit given twice',
    request: () => get(`${LIST}?limit=1&limit=2`),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: unknown bucket',
    request: () => get(`${LIST}?bucket=everything`),
    status: 400,
    code: 'validation_failed',
    check: (body) => expect(detailPaths(body)).toContain('bucket'),
  },
  {
    name: 'list: tenantId not a uuid',
    request: () => get(`${LIST}?tenantId=${encodeURIComponent("1' or '1'='1")}`),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: unknown tenantId',
    request: () => get(`${LIST}?tenantId=${randomUUID()}`),
    status: 404,
    code: 'not_found',
  },
  {
    name: 'list: initiator neither a uuid nor "me"',
    request: () => get(`${LIST}?initiator=bob`),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: from is not a timestamp',
    request: () => get(`${LIST}?from=yesterday`),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: type filter holding a NUL byte',
    request: () => get(`${LIST}?type=%00`),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: a real cursor with one character flipped (signature)',
    request: () =>
      get(`${LIST}?limit=1&cursor=${encodeURIComponent(flip(cursor, cursor.length - 2))}`),
    status: 400,
    code: 'invalid_cursor',
  },
  {
    name: 'list: a real cursor with one character flipped (position)',
    request: () => get(`${LIST}?limit=1&cursor=${encodeURIComponent(flip(cursor, 3))}`),
    status: 400,
    code: 'invalid_cursor',
  },
  {
    name: 'list: a forged cursor (own position, real signature)',
    request: () => {
      const signature = cursor.split('.')[1];
      const body = Buffer.from(JSON.stringify(['2000-01-01T00:00:00.000Z', randomUUID()]));
      return get(`${LIST}?cursor=${body.toString('base64url')}.${signature}`);
    },
    status: 400,
    code: 'invalid_cursor',
  },
  ...['abc', '.', 'abc.', '.abc', 'a.b.c'].map(
    (garbage): Case => ({
      name: `list: garbage cursor "${garbage}"`,
      request: () => get(`${LIST}?cursor=${encodeURIComponent(garbage)}`),
      status: 400,
      code: 'invalid_cursor',
    }),
  ),
  {
    name: 'list: cursor of 501 characters',
    request: () => get(`${LIST}?cursor=${'c'.repeat(501)}`),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: anonymous',
    as: 'anonymous',
    request: () => get(LIST),
    status: 401,
    code: 'unauthenticated',
  },

  // ── One run ────────────────────────────────────────────────────────────────────────────────
  {
    name: 'detail: id not a uuid',
    request: () => get('/api/operations/not-a-uuid'),
    status: 400,
    code: 'validation_failed',
    check: (body) => expect(detailPaths(body)).toContain('id'),
  },
  {
    name: 'detail: id that looks like SQL',
    request: () => get(`/api/operations/${encodeURIComponent("1' or '1'='1")}`),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'detail: id of 101 characters',
    request: () => get(`/api/operations/${'a'.repeat(101)}`),
    status: [400, 414],
    code: ['validation_failed', 'uri_too_long', 'bad_request', 'bad_url'],
  },
  {
    name: 'detail: id with a broken percent-escape',
    request: () => get('/api/operations/%E0%A4%A'),
    status: 400,
    code: ['validation_failed', 'bad_url', 'bad_request'],
  },
  {
    name: 'detail: unknown uuid',
    request: () => get(`/api/operations/${randomUUID()}`),
    status: 404,
    code: 'not_found',
  },
  {
    name: 'cancel: id not a uuid',
    request: () => post('/api/operations/42/cancel'),
    status: 400,
    code: 'validation_failed',
  },

  // ── External reports (API token) ───────────────────────────────────────────────────────────
  {
    name: 'progress: processed -1',
    as: 'token',
    request: () => progress({ processed: -1 }),
    status: 400,
    code: 'validation_failed',
    check: (body) => expect(detailPaths(body)).toContain('processed'),
  },
  {
    name: 'progress: processed 1e20',
    as: 'token',
    request: () => progress({ processed: 1e20 }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'progress: processed 1.5',
    as: 'token',
    request: () => progress({ processed: 1.5 }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'progress: processed is a string',
    as: 'token',
    request: () => progress({ processed: '5' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'progress: processed missing',
    as: 'token',
    request: () => progress({ total: 10 }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'progress: total -3',
    as: 'token',
    request: () => progress({ processed: 1, total: -3 }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'progress: a negative count',
    as: 'token',
    request: () => progress({ processed: 1, counts: { items: -1 } }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'progress: processed above total',
    as: 'token',
    request: () => progress({ processed: 20, total: 10 }),
    status: 422,
    code: 'invalid_progress',
  },
  {
    name: 'progress: a count key that is not snake_case',
    as: 'token',
    request: () => progress({ processed: 1, counts: { 'Bad Key': 1 } }),
    status: 422,
    code: 'invalid_counts',
  },
  {
    name: 'progress: 65 count keys',
    as: 'token',
    request: () =>
      progress({
        processed: 1,
        counts: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 1])),
      }),
    status: 422,
    code: 'invalid_counts',
  },
  {
    name: 'progress: body is an array',
    as: 'token',
    request: () => raw('POST', `/api/operations/${externalRun}/progress`, '[1,2]'),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'progress: run id not a uuid',
    as: 'token',
    request: () => progress({ processed: 1 }, 'run-1'),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'progress: unknown run',
    as: 'token',
    request: () => progress({ processed: 1 }, randomUUID()),
    status: 404,
    code: 'not_found',
  },
  {
    name: 'progress: a run executed by Runwarden workers',
    as: 'token',
    request: () => progress({ processed: 1 }, queueRun),
    status: 409,
    code: 'conflict',
  },
  {
    name: 'progress: with a session instead of a token',
    request: () => progress({ processed: 1 }),
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'heartbeat: a state the type does not know',
    as: 'token',
    request: () => post(`/api/operations/${externalRun}/heartbeat`, { state: 'exploding' }),
    status: 422,
    code: 'invalid_input',
  },
  {
    name: 'complete: outcome pending',
    as: 'token',
    request: () => post(`/api/operations/${externalRun}/complete`, { outcome: 'pending' }),
    status: 400,
    code: 'validation_failed',
  },

  // ── Login ──────────────────────────────────────────────────────────────────────────────────
  {
    name: 'login: malformed JSON',
    as: 'anonymous',
    request: () => raw('POST', LOGIN, '{"email":"owner@demo.test","password":'),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'login: text/plain',
    as: 'anonymous',
    request: () => raw('POST', LOGIN, 'owner@demo.test:secret', 'text/plain'),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'login: password missing',
    as: 'anonymous',
    request: () => post(LOGIN, { email: 'owner@demo.test' }),
    status: 400,
    code: 'validation_failed',
    check: (body) => expect(detailPaths(body)).toContain('password'),
  },
  {
    name: 'login: email is a number',
    as: 'anonymous',
    request: () => post(LOGIN, { email: 12345, password: 'x' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'login: email that looks like SQL',
    as: 'anonymous',
    request: () => post(LOGIN, { email: "' or 1=1 --", password: 'x' }),
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'login: email holding a NUL byte',
    as: 'anonymous',
    request: () => post(LOGIN, { email: 'owner\u0000@demo.test', password: 'x' }),
    status: [400, 401],
    code: ['validation_failed', 'unauthenticated'],
  },
  {
    name: 'login: wrong password',
    as: 'anonymous',
    request: () => post(LOGIN, { email: 'owner@demo.test', password: 'not-it' }),
    status: 401,
    code: 'unauthenticated',
  },

  // ── Tokens ─────────────────────────────────────────────────────────────────────────────────
  {
    name: 'tokens: unknown role',
    request: () => post(TOKENS, { name: 'ci', role: 'superuser' }),
    status: 400,
    code: 'validation_failed',
    check: (body) => expect(detailPaths(body)).toContain('role'),
  },
  {
    name: 'tokens: blank name',
    request: () => post(TOKENS, { name: '   ', role: 'operator' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'tokens: name of 101 characters',
    request: () => post(TOKENS, { name: 'n'.repeat(101), role: 'operator' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'tokens: name holding a NUL byte',
    request: () => post(TOKENS, { name: 'ci\u0000', role: 'operator' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'tokens: a JSON array as body',
    request: () => raw('POST', TOKENS, '[{"name":"ci","role":"operator"}]'),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'tokens: duplicate key ("role" twice)',
    request: () => raw('POST', TOKENS, '{"name":"ci","role":"readonly","role":"owner"}'),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'tokens: anonymous',
    as: 'anonymous',
    request: () => post(TOKENS, { name: 'ci', role: 'operator' }),
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'tokens: readonly member',
    as: 'readonly',
    request: () => post(TOKENS, { name: 'ci', role: 'operator' }),
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'tokens: cookie without x-csrf-token',
    as: 'noCsrf',
    request: () => post(TOKENS, { name: 'ci', role: 'owner' }),
    status: 403,
    code: 'csrf_invalid',
  },
];

const oneOf = <T>(value: T | T[]) => (Array.isArray(value) ? value : [value]);

describe('bad input never yields a 500 and never changes stored state (DESIGN §11)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await storedState();
    const res = await h.request(callers[c.as ?? 'owner'], c.request());
    const after = await storedState();
    // Soft, so one run reports every way a case is wrong; the stored state is checked regardless.
    expect.soft(res.statusCode, res.body).not.toBe(500);
    expect.soft(oneOf(c.status), res.body).toContain(res.statusCode);
    expect.soft(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json() as ErrorJson;
    expect.soft(body, 'the error shape').toEqual({
      error: expect.objectContaining({
        code: expect.stringMatching(/^[a-z_]+$/),
        message: expect.stringMatching(/\S/),
      }),
    });
    expect.soft(oneOf(c.code), res.body).toContain(body.error?.code);
    if (body.error) c.check?.(body);
    expect(after, 'stored state after the request').toEqual(before);
  });

  it('answers odd but harmless list filters with 200 and changes nothing', async () => {
    const before = await storedState();
    for (const query of [
      `type=${encodeURIComponent("x' or 1=1 --")}`,
      `type=${encodeURIComponent('demo.sleep; drop table operation_runs; --')}`,
      `type=${encodeURIComponent('%')}`,
      `type=${encodeURIComponent('demo.%')}`,
      `from=${encodeURIComponent('2030-01-01T00:00:00Z')}&to=${encodeURIComponent('2020-01-01T00:00:00Z')}`,
    ]) {
      const res = await h.request(callers.owner, get(`${LIST}?${query}`));
      expect([query, res.statusCode, res.body]).toEqual([query, 200, expect.any(String)]);
      expect(res.json()).toEqual({ items: [], nextCursor: null });
    }
    expect(await storedState()).toEqual(before);
  });

  it('never answers 500 for far-off timestamps in the list window', async () => {
    const before = await storedState();
    for (const query of [
      'from=0000-01-01T00:00:00Z',
      'from=0001-01-01T00:00:00Z',
      'to=9999-12-31T23:59:59Z',
      `to=${encodeURIComponent('9999-12-31T23:59:59-23:59')}`,
    ]) {
      const res = await h.request(callers.owner, get(`${LIST}?${query}`));
      expect(res.statusCode, `${query}: ${res.body}`).not.toBe(500);
      if (res.statusCode !== 200) {
        expect(res.statusCode, `${query}: ${res.body}`).toBe(400);
        expect(res.json().error.code).toBe('validation_failed');
      }
    }
    expect(await storedState()).toEqual(before);
  });

  it('accepts or refuses a huge nested input within 1 MiB, but never with a 500', async () => {
    // ~900 KB of extra input, wide and deep. demo.sleep's schema strips unknown keys, so a start
    // is legitimate: it may create exactly one run (and its job), nothing else.
    // Built as text: 100,000 levels are too deep for JSON.stringify itself.
    const deep = `${'{"d":'.repeat(100_000)}"bottom"${'}'.repeat(100_000)}`;
    const wide = JSON.stringify(
      Object.fromEntries(
        Array.from({ length: 8_000 }, (_, i) => [`key${i}`, { n: i, s: 'v'.repeat(50) }]),
      ),
    );
    for (const [tag, extra] of [
      ['huge-wide', wide],
      ['huge-deep', deep],
    ] as const) {
      const payload = `{"type":"demo.sleep","tenantId":"${h.ids.prod}","input":{"seconds":1,"tag":"${tag}","extra":${extra}}}`;
      expect(payload.length).toBeLessThan(1024 * 1024);
      const before = await storedState();
      const res = await h.request(callers.owner, raw('POST', START, payload));
      expect(res.statusCode, `${tag}: ${res.body.slice(0, 500)}`).not.toBe(500);
      const after = await storedState();
      if (res.statusCode === 202) {
        expect(res.json().reused).toBe(false);
        expect(after.counts).toEqual({
          ...before.counts,
          operation_runs: before.counts.operation_runs! + 1,
          run_events: before.counts.run_events! + 1,
          jobs: before.counts.jobs! + 1,
          audit_log: before.counts.audit_log! + 1,
        });
        const stored = await h.db
          .selectFrom('operation_runs')
          .select('input')
          .where('id', '=', res.json().run.id)
          .executeTakeFirstOrThrow();
        expect(stored.input).toEqual({ seconds: 1, tag });
      } else {
        expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, res.body).toBeLessThan(500);
        expect(res.json().error.code).toEqual(expect.any(String));
        expect(after).toEqual(before);
      }
    }
  });

  it('refuses an unknown type with a huge input and changes nothing', async () => {
    const before = await storedState();
    const res = await h.request(
      callers.owner,
      start({ type: 'nope.nothing', input: { blob: 'b'.repeat(900_000) } }),
    );
    expect([res.statusCode, res.json().error.code]).toEqual([422, 'unknown_type']);
    expect(await storedState()).toEqual(before);
  });
});

describe('external reports that would store text PostgreSQL cannot hold', () => {
  it('completes with a failure message holding a lone surrogate: stored sanitized or refused, never a 500', async () => {
    const started = await h.request(callers.token, {
      method: 'POST',
      url: START,
      payload: { type: 'restore.execute', tenantId: h.ids.prod, input: { restoreRunId: 'r-sur' } },
    });
    expect(started.statusCode).toBe(202);
    const id = started.json().run.id as string;
    const before = await storedState();
    const res = await h.request(
      callers.token,
      raw(
        'POST',
        `/api/operations/${id}/complete`,
        '{"outcome":"failed","failures":[{"code":"restore.failed","message":"bad \\ud800 text"}]}',
      ),
    );
    expect.soft(res.statusCode, res.body).not.toBe(500);
    if (res.statusCode === 200) {
      const run = await h.db
        .selectFrom('operation_runs')
        .select(['status', 'outcome', 'failures'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(run).toMatchObject({ status: 'completed', outcome: 'failed' });
    } else {
      expect.soft([400, 422], res.body).toContain(res.statusCode);
      expect(await storedState()).toEqual(before);
    }
  });
});
