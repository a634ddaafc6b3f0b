import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/pool.js';
import { RETRY_AFTER_SECONDS } from '../errors.js';

const Health = z.object({
  status: z.enum(['ok', 'error']),
  database: z.enum(['ok', 'unreachable']),
});

/** `GET /api/health`: 200 when the database answers, 503 naming the failing part when not. */
export const healthRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Whether the API and its database answer',
        operationId: 'getHealth',
        response: {
          200: Health.describe('The API and its database answer'),
          // Registered where no session is looked up: its own answer even with a cookie.
          503: Health.describe('The database does not answer; Retry-After says when to retry'),
        },
      },
    },
    async (_request, reply) => {
      try {
        await sql`select 1`.execute(db);
        return { status: 'ok' as const, database: 'ok' as const };
      } catch {
        return reply
          .status(503)
          .header('retry-after', String(RETRY_AFTER_SECONDS))
          .send({ status: 'error', database: 'unreachable' });
      }
    },
  );
};
