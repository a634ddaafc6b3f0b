import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { authPlugin, requireCaller } from '../../src/http/auth.js';
import { handleError } from '../../src/http/errors.js';
import { loadHttpSecret } from '../../src/http/secret.js';
import { apiHarness } from '../support/http.js';
import { quietLogger } from '../support/worker.js';

// Routes are closed by default (DESIGN §10): a route plugin registered in the authenticated scope
// cannot be reached anonymously, whatever its handler forgets. Only the routes listed in PUBLIC
// below are open; every other route the app knows must answer an anonymous caller 401, so a new
// route registered in the wrong scope fails here until it is listed on purpose.

const webRoot = await mkdtemp(path.join(tmpdir(), 'runwarden-closed-web-'));
await mkdir(path.join(webRoot, 'assets'));
await writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>Runwarden</title>');
await writeFile(path.join(webRoot, 'assets', 'app.js'), 'console.log(1);');
const h = await apiHarness({ app: { webRoot } });
const secret = await loadHttpSecret(h.db);
afterAll(() => rm(webRoot, { recursive: true, force: true }));

/** Every route an anonymous caller may reach: `METHOD path`, as Fastify registered it. */
const PUBLIC = new Set([
  'GET /api/health',
  'POST /api/auth/login',
  'POST /api/auth/logout',
  // Invite redemption needs no login (an owner's own password change still needs a session).
  'POST /api/auth/password',
  // An owner's invitation is accepted signed in, or, by someone new, with a password (no login).
  'POST /api/invitations/accept',
  'GET /api/auth/demo',
  'GET /api/openapi.json',
  'GET /metrics',
  // The web app's files (those of the test's web root) and pages (the 404 handler serves those).
  'GET /index.html',
  'GET /assets/app.js',
]);
/** Swagger UI's own routes (its page, assets and the document) all live under /api/docs. */
const isPublic = (method: string, url: string) =>
  PUBLIC.has(`${method === 'HEAD' ? 'GET' : method} ${url}`) ||
  url === '/api/docs' ||
  url.startsWith('/api/docs/');

const ANONYMOUS = { error: { code: 'unauthenticated', message: 'Log in or send an API token.' } };

/** Every route Fastify knows, read from `printRoutes()` (a tree of path pieces). */
function routesOf(app: FastifyInstance): Array<{ method: string; url: string }> {
  const routes: Array<{ method: string; url: string }> = [];
  const pieces: string[] = [];
  for (const line of app.printRoutes().split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    pieces.length = depth;
    pieces.push(match[2] ?? '');
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url: pieces.join('') });
  }
  return routes;
}

/** A concrete URL for a route pattern: parameters and wildcards filled with plausible values. */
function concrete(url: string): string {
  return url
    .replace(/:ws\b/g, 'contoso')
    .replace(/:id\b/g, randomUUID())
    .replace(/:\w+/g, 'x')
    .replace(/\*/g, 'x');
}

describe('routes are closed by default', () => {
  it('finds every route of the app (the enumeration itself works)', async () => {
    await h.app.ready();
    const found = routesOf(h.app).map((r) => `${r.method} ${r.url}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'GET /api/me',
        'HEAD /api/me',
        'POST /api/workspaces/:ws/operations',
        'POST /api/operations/:id/cancel',
        'GET /api/stream',
        'GET /api/system/audit',
        ...PUBLIC,
      ]),
    );
  });

  it('answers an anonymous caller 401 on every route not listed as public, before parsing its body', async () => {
    const closed = routesOf(h.app).filter((r) => !isPublic(r.method, r.url));
    expect(closed.length).toBeGreaterThan(20);
    const answers: string[] = [];
    for (const { method, url } of closed) {
      const res = await h.app.inject({
        method: method as 'GET',
        url: concrete(url),
        // Not even a body of the wrong type is looked at: the caller is refused first.
        ...(method === 'GET' || method === 'HEAD'
          ? {}
          : { payload: 'not json', headers: { 'content-type': 'text/plain' } }),
      });
      const body = method === 'HEAD' ? ANONYMOUS : res.json();
      answers.push(`${method} ${url} → ${res.statusCode} ${JSON.stringify(body)}`);
    }
    expect(answers).toEqual(
      closed.map(({ method, url }) => `${method} ${url} → 401 ${JSON.stringify(ANONYMOUS)}`),
    );
  });

  it('leaves the public routes open to an anonymous caller', async () => {
    for (const route of routesOf(h.app).filter((r) => isPublic(r.method, r.url))) {
      const res = await h.app.inject({ method: route.method as 'GET', url: concrete(route.url) });
      expect(res.statusCode, `${route.method} ${route.url}: ${res.body}`).not.toBe(401);
    }
  });

  it('serves a signed-out browser the web app, deep links included; unknown API paths stay 404', async () => {
    for (const url of ['/', '/login', '/admin/operations/0190f1c2-0000-7000-8000-000000000000']) {
      const page = await h.app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type'], url).toMatch(/^text\/html/);
    }
    const asset = await h.app.inject({ method: 'GET', url: '/assets/app.js' });
    expect(asset.statusCode).toBe(200);
    for (const url of ['/api/nope', '/assets/nope.js']) {
      const missing = await h.app.inject({ method: 'GET', url });
      expect(missing.statusCode, url).toBe(404);
      expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'Not found.' } });
    }
    const logout = await h.app.inject({ method: 'POST', url: '/api/auth/logout' });
    expect(logout.json()).toEqual({ ok: true });
  });
});

describe('the authenticated scope', () => {
  // A route as a future route file might write it: no authorization call anywhere.
  const app = Fastify({ loggerInstance: quietLogger }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  // The harness app's secret, so its session cookies are good here too.
  app.register(authPlugin, { db: h.db, secret });
  app.register(async (closed) => {
    await closed.register(requireCaller, { db: h.db });
    closed.get('/forgotten', async (request) => ({ via: request.principal?.via }));
    closed.post(
      '/forgotten',
      { schema: { body: z.object({ n: z.number() }) } },
      async (request) => ({ via: request.principal?.via, n: (request.body as { n: number }).n }),
    );
  });
  afterAll(() => app.close());

  it('refuses an anonymous caller with 401, whatever the route forgets', async () => {
    for (const request of [
      { method: 'GET' as const, url: '/forgotten' },
      { method: 'POST' as const, url: '/forgotten', payload: { n: 'not a number' } },
    ]) {
      const res = await app.inject(request);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(ANONYMOUS);
    }
  });

  it('lets in a session (CSRF-checked on writes) and an API token; refuses a token that is not valid', async () => {
    const owner = await h.login('owner@demo.test');
    expect((await app.inject({ url: '/forgotten', headers: owner.headers })).json()).toEqual({
      via: 'session',
    });
    const { 'x-csrf-token': _csrf, ...cookieOnly } = owner.headers;
    const noCsrf = await app.inject({
      method: 'POST',
      url: '/forgotten',
      headers: cookieOnly,
      payload: { n: 1 },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('csrf_invalid');
    const write = await app.inject({
      method: 'POST',
      url: '/forgotten',
      headers: owner.headers,
      payload: { n: 1 },
    });
    expect(write.json()).toEqual({ via: 'session', n: 1 });

    const created = await h.request(owner, {
      method: 'POST',
      url: '/api/workspaces/contoso/tokens',
      payload: { name: 'closed-routes', role: 'readonly' },
    });
    const bearer = { authorization: `Bearer ${created.json().token}` };
    expect((await app.inject({ url: '/forgotten', headers: bearer })).json()).toEqual({
      via: 'token',
    });
    const wrong = await app.inject({
      url: '/forgotten',
      headers: { authorization: 'Bearer rwt_not-a-token' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({
      error: { code: 'unauthenticated', message: 'The API token is not valid.' },
    });
  });
});
