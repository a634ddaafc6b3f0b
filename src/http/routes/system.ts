import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize, notFound } from '../../access/authorize.js';
import { actorOf, type Principal, personId } from '../../access/principal.js';
import { platformVisibility } from '../../access/visibility.js';
import { RunwardenError } from '../../domain/errors.js';
import { isTerminal } from '../../domain/run-classes.js';
import { startRun } from '../../execution/start.js';
import { recordAudit } from '../../runs/audit.js';
import { cancelForCaller } from '../cancel.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { toRunDetail } from '../run-detail-view.js';
import { readModelOf, startAnswer, toRunView } from '../run-view.js';
import { RunDetailSchema, RunViewSchema } from '../schemas.js';
import { systemContextRoutes } from '../system-names.js';

const RunParams = z.object({ id: z.uuid() });
const Items = z.object({ items: z.array(RunViewSchema) });
/** Not platform staff: 404, as if the system plane did not exist; staff lacking the capability: 403. */
const StaffErrors = errorResponses(403, 404);
/** A triage action on one run answers with the run as it is after (409: not in a state for it). */
const triageAnswer = (summary: string, operationId: string) => ({
  tags: ['system'],
  summary,
  operationId,
  params: RunParams,
  response: { 200: z.object({ run: RunViewSchema }), ...errorResponses(403, 404, 409) },
});

/** The system plane for platform staff: stuck and failed runs across workspaces, triage, audit. */
export const systemRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const reads = readModelOf(ctx);
  await systemContextRoutes(app, ctx);
  app.get(
    '/api/system/ops/stuck',
    {
      schema: {
        tags: ['system'],
        summary: 'Active runs that stopped reporting, across workspaces (system.ops.view)',
        operationId: 'listStuckRuns',
        response: { 200: Items, ...StaffErrors },
      },
    },
    async (request) => {
      authorize(request.principal, { kind: 'platform' }, 'system.ops.view');
      const now = ctx.now();
      const stuck = await reads.stuck(now, platformVisibility);
      return { items: stuck.map((run) => toRunView(run, ctx.registry, now)) };
    },
  );

  app.get(
    '/api/system/ops/failures',
    {
      schema: {
        tags: ['system'],
        summary: 'Recent failed runs across workspaces (system.ops.view)',
        operationId: 'listFailedRuns',
        querystring: z.object({
          days: z.coerce.number().int().min(1).max(90).default(7),
          reviewed: z.enum(['exclude', 'include']).default('exclude'),
          limit: z.coerce.number().int().min(1).max(200).default(100),
        }),
        response: { 200: Items, ...StaffErrors },
      },
    },
    async (request) => {
      authorize(request.principal, { kind: 'platform' }, 'system.ops.view');
      const now = ctx.now();
      const rows = await reads.failures(request.query, now, platformVisibility);
      return { items: rows.map((run) => toRunView(run, ctx.registry, now)) };
    },
  );

  async function existing(id: string) {
    const run = await reads.find(id, ctx.now());
    if (!run) throw notFound('run');
    return run;
  }

  /** A triage action's caller (platform staff with system.ops.triage) and the run it acts on. */
  async function triage(caller: Principal | undefined, id: string) {
    const { principal } = authorize(caller, { kind: 'platform' }, 'system.ops.triage');
    return { principal, run: await existing(id) };
  }

  /** A run as it is now, as every response shows it. */
  async function viewOf(id: string) {
    return toRunView(await existing(id), ctx.registry, ctx.now());
  }

  app.get(
    '/api/system/ops/runs/:id',
    {
      schema: {
        tags: ['system'],
        summary: 'Any run in detail, whatever its workspace (system.ops.view)',
        operationId: 'getSystemRun',
        params: RunParams,
        response: { 200: RunDetailSchema, ...StaffErrors },
      },
    },
    async (request) => {
      authorize(request.principal, { kind: 'platform' }, 'system.ops.view');
      return await toRunDetail(reads, ctx.registry, await existing(request.params.id), ctx.now());
    },
  );

  app.post(
    '/api/system/ops/runs/:id/retry',
    {
      schema: {
        tags: ['system'],
        summary: 'Start a terminal run again with its input, as a system run (system.ops.triage)',
        operationId: 'retryRun',
        params: RunParams,
        response: {
          202: z.object({ run: RunViewSchema, reused: z.boolean() }),
          // 409 still active, or its tenant inactive; 422 its type or input no longer valid.
          ...errorResponses(403, 404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const { principal, run: original } = await triage(request.principal, request.params.id);
      if (!isTerminal(original)) {
        throw new RunwardenError('conflict', 'The run is still active; cancel it before a retry.');
      }
      const started = await startRun(ctx, {
        type: original.type,
        workspaceId: original.workspace_id,
        tenantId: original.tenant_id,
        input: original.input,
        // A staff retry is a system run: it notifies nobody and passes the initiator gate.
        initiatorUserId: null,
        context: { ...original.context, retriedBy: principal.userId },
        retryOf: original.id,
      });
      await recordAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'system.retry',
        workspaceId: original.workspace_id,
        target: { type: 'run', id: original.id },
        details: { newRunId: started.run.id, reused: started.reused },
      });
      return reply.status(202).send(await startAnswer(reads, ctx.registry, started, ctx.now()));
    },
  );

  const cancelSchema = triageAnswer('Cancel any run (system.ops.triage)', 'systemCancelRun');
  app.post('/api/system/ops/runs/:id/cancel', { schema: cancelSchema }, async (request) => {
    const { principal, run } = await triage(request.principal, request.params.id);
    await cancelForCaller(ctx, run, principal, 'system.cancel');
    return { run: await viewOf(run.id) };
  });

  const reviewSchema = triageAnswer(
    'Mark a failed run reviewed, off the failures list (system.ops.triage)',
    'markRunReviewed',
  );
  app.post('/api/system/ops/runs/:id/mark-reviewed', { schema: reviewSchema }, async (request) => {
    const { principal, run } = await triage(request.principal, request.params.id);
    const result = await ctx.runs.markReviewed(run.id, { userId: personId(principal) });
    if (!result.moved) {
      throw new RunwardenError(
        'conflict',
        isTerminal(run) ? 'The run is already marked reviewed.' : 'The run is still active.',
      );
    }
    await recordAudit(ctx.db, {
      actor: actorOf(principal),
      action: 'system.mark_reviewed',
      workspaceId: run.workspace_id,
      target: { type: 'run', id: run.id },
    });
    return { run: await viewOf(run.id) };
  });

  app.get(
    '/api/system/audit',
    {
      schema: {
        tags: ['system'],
        summary: 'The audit log, newest first (system.ops.view)',
        operationId: 'listAudit',
        querystring: z.object({
          before: z.coerce.number().int().min(1).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(100),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                id: z.string(),
                at: z.string(),
                actor: z.object({
                  userId: z.string().nullable(),
                  kind: z.string(),
                  email: z.string().nullable(),
                }),
                action: z.string(),
                workspaceId: z.string().nullable(),
                target: z.object({ type: z.string(), id: z.string() }).nullable(),
                details: z.record(z.string(), z.unknown()),
              }),
            ),
            nextBefore: z.number().nullable(),
          }),
          ...StaffErrors,
        },
      },
    },
    async (request) => {
      authorize(request.principal, { kind: 'platform' }, 'system.ops.view');
      let query = ctx.db
        .selectFrom('audit_log')
        .leftJoin('users', 'users.id', 'audit_log.actor_user_id')
        .selectAll('audit_log')
        .select('users.email')
        .orderBy('audit_log.id', 'desc')
        .limit(request.query.limit + 1);
      if (request.query.before)
        query = query.where('audit_log.id', '<', String(request.query.before));
      const rows = await query.execute();
      const page = rows.slice(0, request.query.limit);
      return {
        items: page.map((r) => ({
          id: String(r.id),
          at: r.at.toISOString(),
          actor: { userId: r.actor_user_id, kind: r.actor_kind, email: r.email },
          action: r.action,
          workspaceId: r.workspace_id,
          target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
          details: r.details,
        })),
        nextBefore: rows.length > request.query.limit ? Number(page.at(-1)?.id) : null,
      };
    },
  );
};
