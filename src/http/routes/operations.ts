import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated, authorize, authorizeStart } from '../../access/authorize.js';
import { Slug } from '../../access/directory-input.js';
import { actorOf, type Principal } from '../../access/principal.js';
import { startTenantId } from '../../access/start-tenant.js';
import { workspaceVisibility } from '../../access/visibility.js';
import { RunwardenError } from '../../domain/errors.js';
import { PRIORITIES, type Priority } from '../../domain/flow-limits.js';
import { idPrefixOf, inputFilters, type RunSearch } from '../../domain/search.js';
import { MAX_WAIT_SECONDS, timingProblem } from '../../domain/start-timing.js';
import { DEFAULT_RANGE, windowStart } from '../../domain/windows.js';
import { MAX_TAG_LENGTH, MAX_TAGS, startRun } from '../../execution/start.js';
import { recordAudit } from '../../runs/audit.js';
import { COUNT_CAP, LIST_BUCKETS, type RunFilter } from '../../runs/run-reads.js';
import type { ApiContext } from '../context.js';
import { jsonSchemaSerializer } from '../json-serializer.js';
import { errorResponses } from '../openapi.js';
import { RunPageWriter } from '../run-page.js';
import { readModelOf, startAnswer } from '../run-view.js';
import { OperationTypeSchema, RunViewSchema, SummarySchema } from '../schemas.js';

const WorkspaceParams = z.object({ ws: z.string().min(1).max(100) });
const Filters = z
  .looseObject({
    type: z.string().min(1).max(200).optional(),
    tenantId: z.uuid().optional(),
    initiator: z.union([z.uuid(), z.literal('me')]).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    endedFrom: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Runs that ended at or after this (with endedTo: a chart bar)'),
    endedTo: z.iso.datetime({ offset: true }).optional().describe('Runs that ended before this'),
    q: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('A run id, or its first 8 or more characters'),
    tag: z.string().trim().min(1).max(64).optional().describe('Runs started with this tag'),
    failureCode: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Runs whose latest failure has this code'),
    rerunOf: z.uuid().optional().describe('The runs that run this one again'),
  })
  .describe(
    'Also `input.<path>=<value>` (up to 5): runs whose input holds the value at the path, e.g. `input.policyId=p-17`',
  );
const ListAnswer = z.object({ items: z.array(RunViewSchema), nextCursor: z.string().nullable() });
const ListQuery = Filters.extend({
  bucket: z.enum(LIST_BUCKETS).default('all'),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
/**
 * A start (DESIGN §11, §17): its type, scope and input, and when and how urgently it runs. Timing
 * that could never run (both runAt and delaySeconds, an expiry already past or before runAt, a
 * wait beyond 30 days) is a 400 like any other bad value, checked before anything is written.
 */
const StartBody = z
  .strictObject({
    type: z.string().min(1).max(200),
    tenantId: z.uuid().nullish(),
    tenant: Slug.nullish().describe("The tenant by slug, as the library's start takes it"),
    input: z.record(z.string(), z.unknown()).default({}),
    tags: z
      .array(z.string().trim().min(1).max(MAX_TAG_LENGTH))
      .max(MAX_TAGS)
      .optional()
      .describe('For search (tag:…): at most 10, each 1–64 characters'),
    priority: z
      .enum(PRIORITIES)
      .optional()
      .describe('Reorders waiting runs (high, normal, low); never pre-empts a running one'),
    runAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Not before this instant (at most 30 days ahead)'),
    delaySeconds: z
      .number()
      .min(0)
      .max(MAX_WAIT_SECONDS)
      .optional()
      .describe('Not before this many seconds from now (instead of runAt)'),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Still waiting then: it ends cancelled (run.expired)'),
  })
  .superRefine((body, issues) => {
    const problem = timingProblem(startOptions(body), new Date());
    if (problem)
      issues.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
  });

/** The start's timing and priority as `startRun` takes them. */
function startOptions(body: {
  priority?: Priority | undefined;
  runAt?: string | undefined;
  delaySeconds?: number | undefined;
  expiresAt?: string | undefined;
}) {
  return {
    ...(body.priority ? { priority: body.priority } : {}),
    ...(body.runAt ? { runAt: new Date(body.runAt) } : {}),
    ...(body.delaySeconds !== undefined ? { delaySeconds: body.delaySeconds } : {}),
    ...(body.expiresAt ? { expiresAt: new Date(body.expiresAt) } : {}),
  };
}

/** Starting, listing and summarizing a workspace's runs (DESIGN §11). */
export const operationRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const reads = readModelOf(ctx);
  const pages = new RunPageWriter(ctx.registry);
  app.post(
    '/api/workspaces/:ws/operations',
    {
      schema: {
        tags: ['operations'],
        summary: 'Start a run, or reuse the active one with the same identity',
        operationId: 'startOperation',
        params: WorkspaceParams,
        body: StartBody,
        response: {
          202: z.object({ run: RunViewSchema, reused: z.boolean() }),
          // 404 no such tenant (or one the caller may not see); 409 the tenant is inactive;
          // 422 an unknown type, input its schema refuses, or timing on an external type.
          ...errorResponses(403, 404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const tenantId = startTenantId(request.principal, request.params.ws, request.body);
      const { principal, access } = authorizeStart(request.principal, request.params.ws, tenantId);
      const started = await startRun(ctx, {
        type: request.body.type,
        workspaceId: access.id,
        tenantId,
        input: request.body.input,
        ...(request.body.tags ? { tags: request.body.tags } : {}),
        ...startOptions(request.body),
        initiatorUserId: principal.userId,
        initiatorTokenId: principal.service ? principal.tokenId : null,
      });
      await recordAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'run.start',
        workspaceId: access.id,
        target: { type: 'run', id: started.run.id },
        details: { type: started.run.type, reused: started.reused },
      });
      return reply.status(202).send(await startAnswer(reads, ctx.registry, started, ctx.now()));
    },
  );

  app.get(
    '/api/workspaces/:ws/operations',
    {
      serializerCompiler: jsonSchemaSerializer,
      schema: {
        tags: ['operations'],
        summary: "List a workspace's runs by bucket and filters, newest first, in keyset pages",
        operationId: 'listOperations',
        params: WorkspaceParams,
        querystring: ListQuery,
        response: {
          200: ListAnswer,
          ...errorResponses(403, 404),
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const now = ctx.now();
      const page = await reads.list(
        {
          ...filterOf(request.principal, request.params.ws, q, now),
          bucket: q.bucket,
          after: q.cursor ? ctx.cursors.decode(q.cursor) : undefined,
          limit: q.limit,
        },
        now,
      );
      const last = page.rows.at(-1);
      const nextCursor =
        page.hasMore && last
          ? ctx.cursors.encode({ createdAt: last.created_at, id: last.id })
          : null;
      // The answer written here as the route's schema writer writes it (finished runs' JSON is
      // kept, see RunPageWriter): a string with a JSON content type is sent as it is.
      const written = pages.write(page.rows, nextCursor, now);
      return reply
        .type('application/json; charset=utf-8')
        .send(written as unknown as z.infer<typeof ListAnswer>);
    },
  );

  app.get(
    '/api/workspaces/:ws/operations/counts',
    {
      serializerCompiler: jsonSchemaSerializer,
      schema: {
        tags: ['operations'],
        summary: 'Count the runs of each list bucket',
        operationId: 'countOperations',
        description:
          'How many runs each list bucket holds under the same filters (exact up to 1,000).',
        params: WorkspaceParams,
        querystring: Filters,
        response: {
          200: z.object({
            // An object with every bucket (what z.record of an enum means), spelled out for OpenAPI.
            counts: z.object(
              Object.fromEntries(LIST_BUCKETS.map((b) => [b, z.number()])) as Record<
                (typeof LIST_BUCKETS)[number],
                z.ZodNumber
              >,
            ),
            cap: z.number(),
          }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => {
      const now = ctx.now();
      const filter = filterOf(request.principal, request.params.ws, request.query, now);
      const counts = await reads.counts(filter, now);
      return { counts, cap: COUNT_CAP };
    },
  );

  app.get(
    '/api/workspaces/:ws/operations/summary',
    {
      serializerCompiler: jsonSchemaSerializer,
      schema: {
        tags: ['operations'],
        summary: "The dashboard's figures: active, stale, reconciled, follow-up, succeeded",
        operationId: 'getOperationsSummary',
        params: WorkspaceParams,
        querystring: z.object({ tenantId: z.uuid().optional() }),
        response: {
          200: SummarySchema,
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => {
      const tenantId = request.query.tenantId;
      const { access } = authorize(
        request.principal,
        { kind: 'workspace', ref: request.params.ws, tenantId },
        'operations.view',
      );
      return await reads.summary(workspaceVisibility(access, tenantId), ctx.now());
    },
  );

  app.get(
    '/api/operation-types',
    {
      schema: {
        tags: ['operations'],
        summary: 'The operation types this server knows, with their input schema and lifecycle',
        operationId: 'listOperationTypes',
        response: {
          200: z.array(OperationTypeSchema),
        },
      },
    },
    async (request) => {
      authenticated(request.principal);
      return ctx.registry.list().map((op) => ({
        type: op.type,
        label: op.label,
        scope: op.scope,
        execution: op.execution,
        inputSchema: z.toJSONSchema(op.input, { unrepresentable: 'any', io: 'input' }) as Record<
          string,
          unknown
        >,
        lifecycle: { ...op.policy },
      }));
    },
  );
};

/**
 * The list filters of a query in a workspace the caller may view, scoped to what they may see
 * there (default window: 30 days).
 */
function filterOf(
  caller: Principal | undefined,
  ws: string,
  q: z.infer<typeof Filters>,
  now: Date,
): RunFilter {
  const { principal, access } = authorize(
    caller,
    { kind: 'workspace', ref: ws, tenantId: q.tenantId },
    'operations.view',
  );
  const ended = endedOf(q);
  return {
    visibility: workspaceVisibility(access, q.tenantId),
    type: q.type,
    initiator: q.initiator === 'me' ? (principal.userId ?? principal.tokenId) : q.initiator,
    // A run that ended in the window may have been created before the default one.
    from: q.from ? new Date(q.from) : ended ? new Date(0) : windowStart(DEFAULT_RANGE, now),
    to: q.to ? new Date(q.to) : undefined,
    ...(ended ? { ended } : {}),
    search: searchOf(q),
  };
}

/** The ended window of a query: both ends, or neither (a 400 otherwise). */
function endedOf(q: z.infer<typeof Filters>): { from: Date; to: Date } | undefined {
  if (!q.endedFrom && !q.endedTo) return undefined;
  const from = q.endedFrom ? new Date(q.endedFrom) : undefined;
  const to = q.endedTo ? new Date(q.endedTo) : undefined;
  if (!from || !to || from >= to)
    throw new RunwardenError(
      'validation_failed',
      'endedFrom and endedTo go together, endedFrom before endedTo.',
    );
  return { from, to };
}

/** The search's terms from the query (DESIGN §18); none: undefined. */
function searchOf(q: z.infer<typeof Filters>): RunSearch | undefined {
  const search: RunSearch = {
    ...(q.q ? { idPrefix: idPrefixOf(q.q) } : {}),
    ...(q.tag ? { tag: q.tag } : {}),
    ...(q.failureCode ? { failureCode: q.failureCode } : {}),
    ...(q.rerunOf ? { rerunOf: q.rerunOf } : {}),
  };
  const input = inputFilters(q);
  if (input) search.input = input;
  return Object.keys(search).length ? search : undefined;
}
