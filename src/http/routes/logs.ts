import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../access/principal.js';
import { RunwardenError } from '../../domain/errors.js';
import { LOG_LEVELS, type RunLogCaps, toLogLine } from '../../domain/run-log-lines.js';
import { appendRunLog } from '../../runs/run-logs.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { visibleRun } from '../run-access.js';
import { readModelOf } from '../run-view.js';

const RunParams = z.object({ id: z.uuid() });
const LogQuery = z.object({
  after: z.coerce.number().int().min(0).max(2_147_483_647).default(0),
  level: z.enum(LOG_LEVELS).default('debug').describe('the lowest level wanted'),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});
const LogItem = z.object({
  seq: z.number().int(),
  attempt: z.number().int(),
  at: z.string(),
  level: z.enum(LOG_LEVELS),
  message: z.string(),
  fields: z.record(z.string(), z.unknown()).nullable(),
});
const LogPage = z.object({
  items: z.array(LogItem),
  nextAfter: z.number().int().describe('pass as `after` to read on (also past filtered lines)'),
  truncated: z.boolean().describe('the cap dropped lines of this run'),
});
const LogBody = z.strictObject({
  lines: z
    .array(
      z.strictObject({
        level: z.enum(LOG_LEVELS),
        message: z.string().max(10_000),
        fields: z.record(z.string().max(200), z.unknown()).optional(),
      }),
    )
    .min(1)
    .max(1000),
});
const Appended = z.object({
  kept: z.number().int(),
  dropped: z.number().int().describe("lines the cap has dropped from this run's log so far"),
  lastSeq: z.number().int(),
});

export interface LogRouteOptions extends ApiContext {
  runLogCaps: RunLogCaps;
}

/** A run's log (DESIGN §18): read by whoever may see the run; external runs append with a token. */
export const logRoutes: FastifyPluginAsyncZod<LogRouteOptions> = async (app, ctx) => {
  const reads = readModelOf(ctx);
  const visible = (
    principal: Principal | undefined,
    id: string,
    capability: 'operations.view' | 'operations.start' | 'operations.cancel',
  ) => visibleRun({ db: ctx.db, reads, now: ctx.now }, principal, id, capability);

  app.get(
    '/api/operations/:id/logs',
    {
      schema: {
        tags: ['runs'],
        summary: "A run's log lines after a seq, at a level or above, in order",
        operationId: 'getRunLogs',
        params: RunParams,
        querystring: LogQuery,
        response: { 200: LogPage, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { run } = await visible(request.principal, request.params.id, 'operations.view');
      const page = await reads.log(run.id, request.query);
      return {
        ...page,
        items: page.items.map((line) => ({ ...line, at: line.at.toISOString() })),
      };
    },
  );

  app.post(
    '/api/operations/:id/logs',
    {
      schema: {
        tags: ['external runs'],
        summary: "An external run's log lines (capped and sanitized like a handler's)",
        operationId: 'appendRunLogs',
        params: RunParams,
        body: LogBody,
        // 403 not an API token; 409 the run is not external. A run that has ended still takes
        // lines: a source system's log often arrives after its last state.
        response: { 200: Appended, ...errorResponses(403, 404, 409) },
      },
    },
    async (request) => {
      const { run, principal } = await visible(
        request.principal,
        request.params.id,
        'operations.start',
      );
      if (principal.via !== 'token')
        throw new RunwardenError('forbidden', 'External runs report with an API token.');
      if (ctx.registry.get(run.type)?.execution !== 'external')
        throw new RunwardenError(
          'conflict',
          `${run.type} runs are executed by Runwarden workers, which write their logs`,
        );
      const at = ctx.now();
      const lines = request.body.lines.map((l) => toLogLine(l.level, l.message, l.fields, at));
      return await appendRunLog(ctx.db, run, lines, { caps: ctx.runLogCaps, now: at });
    },
  );
};
