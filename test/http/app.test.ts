import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { freePort } from '../../src/db/embedded/recovery.js';
import { createDb } from '../../src/db/pool.js';
import { buildApp } from '../../src/http/app.js';
import { freshDatabase } from '../support/db.js';
import { quietLogger } from '../support/worker.js';

let app: FastifyInstance;
beforeAll(async () => {
  const t = await freshDatabase();
  app = await buildApp({ db: t.db, logger: quietLogger });
  // A test-only route to exercise the error contract on bodies until the real write routes land.
  app
    .withTypeProvider<ZodTypeProvider>()
    .post(
      '/test/echo',
      { schema: { body: z.object({ count: z.number().int().min(0), name: z.string() }) } },
      async (request) => request.body,
    );
});
afterAll(async () => {
  await app?.close();
});

describe('HTTP API foundation', () => {
  it('GET /api/health answers ok when the database does', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('GET /api/health answers 503 naming the database when it is unreachable', async () => {
    const dead = createDb(`postgresql://nobody:x@127.0.0.1:${await freePort()}/none`, { max: 1 });
    const broken = await buildApp({ db: dead, logger: quietLogger });
    try {
      const res = await broken.inject({ method: 'GET', url: '/api/health' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'error', database: 'unreachable' });
    } finally {
      await broken.close();
      await dead.destroy();
    }
  });

  it('serves the OpenAPI document generated from the route schemas', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/health');
  });

  it('answers an unknown route with the error shape, not an HTML page', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'Not found.' } });
  });

  it.each([
    [
      'schema mismatch',
      { 'content-type': 'application/json' },
      JSON.stringify({ count: -1, name: 3 }),
      400,
      'validation_failed',
    ],
    ['malformed JSON', { 'content-type': 'application/json' }, '{"count": 1,', 400, 'invalid_json'],
    [
      'wrong content type',
      { 'content-type': 'text/plain' },
      'count=1',
      415,
      'unsupported_media_type',
    ],
    [
      'a 2 MB body',
      { 'content-type': 'application/json' },
      JSON.stringify({ count: 1, name: 'x'.repeat(2_000_000) }),
      413,
      'payload_too_large',
    ],
  ])('answers %s with %i %s in the error shape', async (_case, headers, payload, status, code) => {
    const res = await app.inject({ method: 'POST', url: '/test/echo', headers, payload });
    expect(res.statusCode).toBe(status);
    const body = res.json() as { error: { code: string; message: string; details?: unknown } };
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(0);
  });

  it('names the failing fields of a schema mismatch', async () => {
    const res = await app.inject({ method: 'POST', url: '/test/echo', payload: { count: 1.5 } });
    const paths = (res.json() as { error: { details: Array<{ path: string }> } }).error.details.map(
      (d) => d.path,
    );
    expect(paths).toEqual(expect.arrayContaining(['count', 'name']));
  });
});
