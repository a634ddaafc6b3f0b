import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { RunwardenError } from '../../src/domain/errors.js';
import { handleError } from '../../src/http/errors.js';
import { quietLogger } from '../support/worker.js';

// The error handler's side of DESIGN §16, error by error: whatever shape "the database is
// unreachable" takes, and wherever it is thrown (a hook, a handler), the answer is 503
// `database_unavailable` with Retry-After. test/http/outage.test.ts does the same against a real
// PostgreSQL being stopped.

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
  code: 'ECONNREFUSED',
});
const startingUp = Object.assign(new Error('the database system is starting up'), {
  code: '57P03',
});

const slug = (name: string) => name.replace(/\W+/g, '-');
const app = Fastify({ loggerInstance: quietLogger });
app.setErrorHandler(handleError);
const throwing: Record<string, () => Error> = {
  refused: () => refused,
  'dual-stack refused': () => new AggregateError([refused, refused], 'connect failed'),
  'starting up': () => startingUp,
  terminated: () => new Error('Connection terminated unexpectedly'),
  'enqueue during outage': () =>
    new RunwardenError('enqueue_failed', 'could not queue demo.sleep', { cause: refused }),
  'enqueue refused by the queue': () =>
    new RunwardenError('enqueue_failed', 'could not queue demo.sleep', {
      cause: new Error('no such task'),
    }),
  bug: () => new TypeError('x is undefined'),
};
for (const [name, error] of Object.entries(throwing)) {
  app.get(`/throw/${slug(name)}`, async () => {
    throw error();
  });
}
// As the session store, principal lookup and rate limiter do: from an onRequest hook.
app.register(async (scoped) => {
  scoped.addHook('onRequest', async () => {
    throw refused;
  });
  scoped.get('/hooked', async () => ({ reached: true }));
});
afterAll(() => app.close());

const get = (url: string) => app.inject({ method: 'GET', url });

describe('the error handler when the database is unreachable', () => {
  it.each(['refused', 'dual-stack refused', 'starting up', 'terminated', 'enqueue during outage'])(
    'answers %s with 503 database_unavailable and Retry-After',
    async (name) => {
      const res = await get(`/throw/${slug(name)}`);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toEqual({
        error: {
          code: 'database_unavailable',
          message: 'The database is unreachable; retry shortly.',
        },
      });
    },
  );

  it('answers an error thrown from an onRequest hook the same way', async () => {
    const res = await get('/hooked');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ error: { code: 'database_unavailable' } });
  });

  it('leaves other errors as they were: enqueue_failed for a queue fault, 500 for a bug', async () => {
    const queue = await get(`/throw/${slug('enqueue refused by the queue')}`);
    expect(queue.statusCode).toBe(503);
    expect(queue.json()).toMatchObject({ error: { code: 'enqueue_failed' } });
    const bug = await get('/throw/bug');
    expect(bug.statusCode).toBe(500);
    expect(bug.headers['retry-after']).toBeUndefined();
    expect(bug.json()).toMatchObject({ error: { code: 'internal' } });
  });
});
