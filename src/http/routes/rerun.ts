import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorizeStart } from '../../access/authorize.js';
import { actorOf } from '../../access/principal.js';
import { rerunRun } from '../../execution/rerun.js';
import { recordAudit } from '../../runs/audit.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { visibleRun } from '../run-access.js';
import { readModelOf, startAnswer } from '../run-view.js';
import { RunViewSchema } from '../schemas.js';

const RunParams = z.object({ id: z.uuid() });
const RerunBody = z
  .strictObject({
    input: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("The edited input; absent: the original run's"),
  })
  .nullish();

/** "Run again…" (DESIGN §18): a new run of the same type and scope, linked by `rerunOf`. */
export const rerunRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const reads = readModelOf(ctx);
  app.post(
    '/api/operations/:id/rerun',
    {
      schema: {
        tags: ['runs'],
        summary: 'Start a run again, perhaps with edited input; the original is unchanged',
        operationId: 'rerunRun',
        params: RunParams,
        body: RerunBody,
        response: {
          202: z.object({ run: RunViewSchema, reused: z.boolean() }),
          // 404 no such run (or one the caller may not see); 409 its tenant is inactive now;
          // 422 its type is gone, the input does not fit it, or it is a fleet.
          ...errorResponses(403, 404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const { run: original } = await visibleRun(
        { db: ctx.db, reads, now: ctx.now },
        request.principal,
        request.params.id,
        'operations.view',
      );
      const { principal, access } = authorizeStart(
        request.principal,
        original.workspace_id,
        original.tenant_id,
      );
      const started = await rerunRun(ctx, {
        runId: original.id,
        ...(request.body?.input ? { input: request.body.input } : {}),
        initiatorUserId: principal.userId,
        initiatorTokenId: principal.service ? principal.tokenId : null,
      });
      await recordAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'run.start',
        workspaceId: access.id,
        target: { type: 'run', id: started.run.id },
        details: { type: started.run.type, reused: started.reused, rerunOf: original.id },
      });
      return reply.status(202).send(await startAnswer(reads, ctx.registry, started, ctx.now()));
    },
  );
};
