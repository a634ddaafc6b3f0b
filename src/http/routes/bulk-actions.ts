import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../../access/authorize.js';
import { actorOf } from '../../access/principal.js';
import { LIST_BUCKETS } from '../../domain/buckets.js';
import { RunwardenError } from '../../domain/errors.js';
import { idPrefixOf, inputFilters, type RunSearch } from '../../domain/search.js';
import { uuidv7 } from '../../domain/uuid.js';
import { DEFAULT_RANGE, windowStart } from '../../domain/windows.js';
import { BULK_ACTION_TYPE, type BulkInput, targetOf } from '../../execution/bulk-action.js';
import { startRun } from '../../execution/start.js';
import { recordAudit } from '../../runs/audit.js';
import { countTargets } from '../../runs/bulk-reads.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { readModelOf, toRunView } from '../run-view.js';
import { RunViewSchema } from '../schemas.js';

const WorkspaceParams = z.object({ ws: z.string().min(1).max(100) });
/** The list's filters and search, as the list takes them (`input` as `{path: value}`). */
const BulkFilter = z.strictObject({
  bucket: z.enum(LIST_BUCKETS).default('all'),
  type: z.string().min(1).max(200).optional(),
  tenantId: z.uuid().optional(),
  initiator: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  endedFrom: z.iso.datetime({ offset: true }).optional(),
  endedTo: z.iso.datetime({ offset: true }).optional(),
  q: z.string().min(1).max(100).optional(),
  tag: z.string().trim().min(1).max(64).optional(),
  failureCode: z.string().min(1).max(200).optional(),
  input: z
    .record(z.string().min(1).max(400), z.string().max(200))
    .optional()
    .describe("Input values by path, e.g. {'policyId': 'p-17', 'batch.size': '42'}"),
});
const BulkBody = z
  .strictObject({
    action: z.enum(['cancel', 'retry']),
    filter: BulkFilter.optional(),
    ids: z.array(z.uuid()).min(1).max(1000).optional(),
    dryRun: z.boolean().default(false),
  })
  .refine((b) => (b.filter === undefined) !== (b.ids === undefined), {
    message: 'name the runs by filter or by ids (one of them)',
  });

/** Bulk cancel and retry (DESIGN §18): a preview count, then a tracked run that does it. */
export const bulkActionRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const reads = readModelOf(ctx);
  app.post(
    '/api/workspaces/:ws/bulk-actions',
    {
      schema: {
        tags: ['operations'],
        summary: 'Cancel or retry every run of a filter or a selection, as a tracked run',
        operationId: 'startBulkAction',
        params: WorkspaceParams,
        body: BulkBody,
        response: {
          200: z.object({ count: z.number() }).describe('dryRun: how many runs it would act on'),
          202: z.object({ run: RunViewSchema, count: z.number() }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { principal, access } = authorize(
        request.principal,
        { kind: 'workspace', ref: request.params.ws, tenantId: body.filter?.tenantId },
        body.action === 'cancel' ? 'operations.cancel' : 'operations.start',
      );
      const input: BulkInput = {
        action: body.action,
        ...(body.ids ? { ids: body.ids } : {}),
        ...(body.filter ? { filter: filterOf(body.filter, ctx.now()) } : {}),
        by: {
          userId: principal.userId,
          tokenId: principal.tokenId ?? null,
          actorKind: actorOf(principal).kind,
          tenantIds: access.restrictedTo ? access.tenants.map((t) => t.id) : null,
        },
        nonce: uuidv7(),
      };
      const policyOf = ctx.registry.policyOf;
      const count = await countTargets(
        { db: ctx.db, policyOf },
        targetOf(access.id, input),
        ctx.now(),
      );
      if (body.dryRun) return reply.status(200).send({ count });
      const started = await startRun(ctx, {
        type: BULK_ACTION_TYPE,
        workspaceId: access.id,
        tenantId: null,
        input,
        // Runwarden's own run: whoever asked is in its input, and their rights are checked again
        // when it acts (a restricted member could not start a workspace-level run in their name).
        initiatorUserId: null,
        context: { requestedBy: actorOf(principal) },
        internal: true,
      });
      await recordAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'run.bulk_action',
        workspaceId: access.id,
        target: { type: 'run', id: started.run.id },
        details: { action: body.action, count, ...(body.ids ? { ids: body.ids.length } : {}) },
      });
      const now = ctx.now();
      const run = await reads.find(started.run.id, now);
      if (!run) throw new Error(`run ${started.run.id} vanished after its start`);
      return reply.status(202).send({ run: toRunView(run, ctx.registry, now), count });
    },
  );
};

/** The list filter as the bulk action stores it: its window fixed when it was asked. */
function filterOf(filter: z.infer<typeof BulkFilter>, now: Date): NonNullable<BulkInput['filter']> {
  const search: RunSearch = {
    ...(filter.q ? { idPrefix: idPrefixOf(filter.q) } : {}),
    ...(filter.tag ? { tag: filter.tag } : {}),
    ...(filter.failureCode ? { failureCode: filter.failureCode } : {}),
  };
  const input = filter.input
    ? inputFilters(
        Object.fromEntries(Object.entries(filter.input).map(([k, v]) => [`input.${k}`, v])),
      )
    : undefined;
  if (input) search.input = input;
  if (filter.from && filter.to && filter.from >= filter.to) {
    throw new RunwardenError('validation_failed', 'filter.from must be before filter.to');
  }
  const ended = filter.endedFrom || filter.endedTo;
  if (
    ended &&
    !(filter.endedFrom && filter.endedTo && new Date(filter.endedFrom) < new Date(filter.endedTo))
  ) {
    throw new RunwardenError(
      'validation_failed',
      'filter.endedFrom and filter.endedTo go together, endedFrom before endedTo.',
    );
  }
  return {
    bucket: filter.bucket,
    // As the list: a run that ended in the window may have been created before the default one.
    from:
      filter.from ??
      (ended ? new Date(0).toISOString() : windowStart(DEFAULT_RANGE, now).toISOString()),
    ...(filter.endedFrom && filter.endedTo
      ? { ended: { from: filter.endedFrom, to: filter.endedTo } }
      : {}),
    ...(filter.to ? { to: filter.to } : {}),
    ...(filter.type ? { type: filter.type } : {}),
    ...(filter.tenantId ? { tenantId: filter.tenantId } : {}),
    ...(filter.initiator ? { initiator: filter.initiator } : {}),
    ...(Object.keys(search).length
      ? { search: search as NonNullable<BulkInput['filter']>['search'] }
      : {}),
  };
}
