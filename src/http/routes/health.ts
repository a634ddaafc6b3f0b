import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/pool.js';
import { RETRY_AFTER_SECONDS } from '../errors.js';

const Health = z.object({
  status: z.enum(['ok', 'error']),
  database: z.enum(['ok', 'unreachable']),
});
/** A caller with a session cookie meets the session lookup first: the API's own 503 then. */
const Unavailable = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** `GET /api/health`: 200 when the database answers, 503 naming the failing part when not. */
export const healthRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/api/health',
    {
      schema: { tags: ['system'], response: { 200: Health, 503: z.union([Health, Unavailable]) } },
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
