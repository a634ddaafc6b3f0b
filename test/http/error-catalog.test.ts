import Fastify, { type FastifyBaseLogger } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ERROR_CATALOG, type ErrorCode, RunwardenError } from '../../src/domain/errors.js';
import { handleError } from '../../src/http/errors.js';
import { registerJsonBodies } from '../../src/http/json-body.js';
import { quietLogger } from '../support/worker.js';

// The error catalog is one table (src/domain/errors.ts); `handleError` classifies an error to one
// of its codes and renders it from there. These pin the table and each way of getting to a code,
// with the exact bodies clients see (DESIGN §11).

const app = Fastify({
  loggerInstance: quietLogger as FastifyBaseLogger,
  bodyLimit: 1024 * 1024,
  genReqId: () => 'the-request-id',
  frameworkErrors: handleError,
}).withTypeProvider<ZodTypeProvider>();
app.setValidatorCompiler(validatorCompiler);
app.setSerializerCompiler(serializerCompiler);
app.setErrorHandler(handleError);
app.removeContentTypeParser('text/plain');
registerJsonBodies(app);

app.get('/raise/:code', async (request) => {
  throw new RunwardenError((request.params as { code: ErrorCode }).code);
});
const thrown: Record<string, () => Error> = {
  csrf: () =>
    Object.assign(new Error('Invalid csrf token'), {
      code: 'FST_CSRF_INVALID_TOKEN',
      statusCode: 403,
    }),
  'csrf secret': () =>
    Object.assign(new Error('Missing csrf secret'), {
      code: 'FST_CSRF_MISSING_SECRET',
      statusCode: 403,
    }),
  'pg 22021': () => Object.assign(new Error('invalid byte sequence'), { code: '22021' }),
  'pg 22P05': () => Object.assign(new Error('unsupported Unicode escape'), { code: '22P05' }),
  'rate limit': () => Object.assign(new Error('Rate limit exceeded'), { statusCode: 429 }),
  'other 4xx': () => Object.assign(new Error('Method not allowed here'), { statusCode: 405 }),
  'json syntax': () => Object.assign(new SyntaxError('Unexpected end'), { statusCode: 400 }),
  unreachable: () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  bug: () => new TypeError('x is undefined'),
};
app.get('/throw/:name', async (request) => {
  throw thrown[(request.params as { name: string }).name]?.();
});
app.post('/body', { schema: { body: z.object({ name: z.string() }) } }, async () => ({ ok: true }));
afterAll(() => app.close());

const json = (payload: string, type = 'application/json') =>
  app.inject({ method: 'POST', url: '/body', payload, headers: { 'content-type': type } });

describe('the error catalog', () => {
  it('gives every code its status (the contract of DESIGN §11)', () => {
    const statuses = Object.fromEntries(
      Object.entries(ERROR_CATALOG).map(([code, entry]) => [code, entry.status]),
    );
    expect(statuses).toEqual({
      validation_failed: 400,
      invalid_cursor: 400,
      invalid_json: 400,
      bad_url: 400,
      bad_request: 400,
      unauthenticated: 401,
      forbidden: 403,
      csrf_invalid: 403,
      invite_invalid: 400,
      not_found: 404,
      conflict: 409,
      tenant_inactive: 409,
      payload_too_large: 413,
      unsupported_media_type: 415,
      unknown_type: 422,
      invalid_input: 422,
      invalid_counts: 422,
      invalid_progress: 422,
      rate_limited: 429,
      internal: 500,
      enqueue_failed: 503,
      database_unavailable: 503,
    });
  });

  it.each(Object.keys(ERROR_CATALOG) as ErrorCode[])(
    'renders %s from its entry: status, default message, Retry-After only when the entry says',
    async (code) => {
      const entry: { status: number; message: string; retryAfterSeconds?: number } =
        ERROR_CATALOG[code];
      const res = await app.inject({ method: 'GET', url: `/raise/${code}` });
      expect(res.statusCode).toBe(entry.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ error: { code, message: entry.message } });
      expect(res.headers['retry-after']).toBe(
        entry.retryAfterSeconds === undefined ? undefined : String(entry.retryAfterSeconds),
      );
    },
  );

  it('keeps the message and details a RunwardenError carries', async () => {
    const scoped = Fastify({ loggerInstance: quietLogger });
    scoped.setErrorHandler(handleError);
    scoped.get('/', async () => {
      throw new RunwardenError(
        'forbidden',
        'You do not have the operations.cancel permission here.',
        {
          details: { capability: 'operations.cancel' },
        },
      );
    });
    const res = await scoped.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      error: {
        code: 'forbidden',
        message: 'You do not have the operations.cancel permission here.',
        details: { capability: 'operations.cancel' },
      },
    });
    await scoped.close();
  });
});

describe('classifying what is not a RunwardenError', () => {
  it('a body that fails the route schema: 400 validation_failed with field paths', async () => {
    const res = await json('{"name":1}');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: {
        code: 'validation_failed',
        message: 'The request does not match the API schema.',
        details: [{ path: 'name', message: 'Invalid input: expected string, received number' }],
      },
    });
  });

  it.each([
    [
      'malformed JSON',
      () => json('{"name":'),
      400,
      'invalid_json',
      'The request body is not valid JSON.',
    ],
    [
      'a body that is not JSON',
      () => json('name', 'text/plain'),
      415,
      'unsupported_media_type',
      'Send JSON (Content-Type: application/json).',
    ],
    [
      'a body over 1 MiB',
      () => json(JSON.stringify({ name: 'x'.repeat(1024 * 1024) })),
      413,
      'payload_too_large',
      'The request body is larger than 1 MiB.',
    ],
    [
      'a bad percent-escape in the path',
      () => app.inject({ method: 'GET', url: '/raise/%E0%A4%A' }),
      400,
      'bad_url',
      'The request path is not valid.',
    ],
    [
      'a path parameter over 100 characters (Fastify keeps its 414)',
      () => app.inject({ method: 'GET', url: `/raise/${'x'.repeat(101)}` }),
      414,
      'bad_url',
      'The request path is not valid.',
    ],
    [
      'an empty JSON body (any other 4xx keeps its status and message)',
      () => json(''),
      400,
      'bad_request',
      "Body cannot be empty when content-type is set to 'application/json'",
    ],
  ] as const)('%s', async (_name, send, status, code, message) => {
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ error: { code, message } });
  });

  it.each([
    [
      'csrf',
      403,
      'csrf_invalid',
      'Send the x-csrf-token header you got at login with each change.',
    ],
    [
      'csrf secret',
      403,
      'csrf_invalid',
      'Send the x-csrf-token header you got at login with each change.',
    ],
    [
      'pg 22021',
      400,
      'validation_failed',
      'The request contains characters that cannot be stored.',
    ],
    [
      'pg 22P05',
      400,
      'validation_failed',
      'The request contains characters that cannot be stored.',
    ],
    ['rate limit', 429, 'rate_limited', 'Too many requests; wait a minute and try again.'],
    ['other 4xx', 405, 'bad_request', 'Method not allowed here'],
    ['json syntax', 400, 'invalid_json', 'The request body is not valid JSON.'],
    ['unreachable', 503, 'database_unavailable', 'The database is unreachable; retry shortly.'],
  ] as const)('thrown %s: %i %s', async (name, status, code, message) => {
    const res = await app.inject({ method: 'GET', url: `/throw/${name.replace(/ /g, '%20')}` });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ error: { code, message } });
    expect(res.headers['retry-after']).toBe(status === 503 ? '5' : undefined);
  });

  it('anything else: 500 internal naming the request id, without Retry-After', async () => {
    const res = await app.inject({ method: 'GET', url: '/throw/bug' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.json()).toEqual({
      error: {
        code: 'internal',
        message: 'Something went wrong on our side; it has been logged as request the-request-id.',
      },
    });
  });
});
