import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated, authorize, authorizeStart, notFound } from '../../access/authorize.js';
import { Slug } from '../../access/directory-input.js';
import { actorOf, type Principal, type WorkspaceAccess } from '../../access/principal.js';
import { workspaceVisibility } from '../../access/visibility.js';
import { RunwardenError } from '../../domain/errors.js';
import { failedTenantSlugs, retryFleet } from '../../fleet/retry-fleet.js';
import { type FleetStarted, startFleet } from '../../fleet/start-fleet.js';
import { recordAudit } from '../../runs/audit.js';
import { LIST_BUCKETS } from '../../runs/run-reads.js';
import type { ApiContext } from '../context.js';
import { jsonSchemaSerializer } from '../json-serializer.js';
import { errorResponses } from '../openapi.js';
import { authorizeRun, visibleRun } from '../run-access.js';
import { RunPageWriter } from '../run-page.js';
import { readModelOf, toRunView } from '../run-view.js';
import { RunViewSchema } from '../schemas.js';

const WorkspaceParams = z.object({ ws: z.string().min(1).max(100) });
const RunParams = z.object({ id: z.uuid() });
const FleetBody = z.strictObject({
  type: z.string().min(1).max(200),
  tenants: z
    .union([z.literal('all'), z.array(Slug).min(1).max(10_000)])
    .describe("'all' (every active tenant) or tenant slugs; inactive tenants are skipped"),
  input: z.record(z.string(), z.unknown()).default({}),
});
const FleetAnswer = z.object({
  run: RunViewSchema,
  children: z.object({ started: z.number(), reused: z.number(), skipped: z.number() }),
});
const ChildrenQuery = z.object({
  bucket: z.enum(LIST_BUCKETS).default('all'),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const ListAnswer = z.object({ items: z.array(RunViewSchema), nextCursor: z.string().nullable() });

/** Fleet operations (DESIGN §19): one parent run over one child per tenant. */
export const fleetRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const reads = readModelOf(ctx);
  const pages = new RunPageWriter(ctx.registry);

  app.post(
    '/api/workspaces/:ws/fleet-operations',
    {
      schema: {
        tags: ['operations'],
        summary: 'Start a run on every (or the named) active tenant, under one parent run',
        operationId: 'startFleet',
        params: WorkspaceParams,
        body: FleetBody,
        response: {
          202: FleetAnswer,
          // 403 a tenant the caller may not start on; 404 no such workspace or tenant;
          // 422 an unknown type, a type that cannot run as a fleet, input its schema refuses.
          ...errorResponses(403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { principal, access } = await authorizeFleet(
        ctx,
        request.principal,
        request.params.ws,
        request.body.tenants,
      );
      const started = await startFleet(ctx, {
        type: request.body.type,
        workspaceId: access.id,
        tenants: request.body.tenants,
        input: request.body.input,
        initiatorUserId: principal.userId,
        initiatorTokenId: principal.service ? principal.tokenId : null,
      });
      await recordAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'run.start',
        workspaceId: access.id,
        target: { type: 'run', id: started.run.id },
        details: { type: started.run.type, fleet: true, ...started.children },
      });
      return reply.status(202).send(await fleetAnswer(started, ctx.now()));
    },
  );

  app.post(
    '/api/operations/:id/retry-failed',
    {
      schema: {
        tags: ['operations'],
        summary: "Start a fleet again over a finished fleet's tenants that did not succeed",
        operationId: 'retryFleetFailed',
        params: RunParams,
        response: {
          202: FleetAnswer,
          // 404 no such fleet run (or one the caller may not see); 409 still running, or every
          // tenant succeeded; 403 a tenant the caller may not start on.
          ...errorResponses(403, 404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const now = ctx.now();
      const parent = await reads.find(request.params.id, now);
      if (!parent?.fleet) {
        authenticated(request.principal);
        throw notFound('run');
      }
      // The right to start first: lacking it is a 403 whatever state the fleet is in.
      const seen = await authorizeRun(ctx.db, request.principal, parent, 'operations.start');
      // The caller must be allowed to start on every tenant it retries (none: retryFleet says why).
      const tenants = await failedTenantSlugs(ctx, parent.id);
      const { principal, access } = tenants.length
        ? await authorizeFleet(ctx, request.principal, parent.workspace_id, tenants)
        : seen;
      const started = await retryFleet(ctx, {
        parentId: parent.id,
        initiatorUserId: principal.userId,
        initiatorTokenId: principal.service ? principal.tokenId : null,
      });
      await recordAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'run.start',
        workspaceId: access.id,
        target: { type: 'run', id: started.run.id },
        details: { type: started.run.type, fleet: true, retryOf: parent.id, ...started.children },
      });
      return reply.status(202).send(await fleetAnswer(started, now));
    },
  );

  /** A started fleet as the API answers it. */
  async function fleetAnswer(started: FleetStarted, now: Date) {
    const run = await reads.find(started.run.id, now);
    if (!run) throw new Error(`run ${started.run.id} vanished after its start`);
    return { run: toRunView(run, ctx.registry, now), children: started.children };
  }

  app.get(
    '/api/operations/:id/children',
    {
      serializerCompiler: jsonSchemaSerializer,
      schema: {
        tags: ['runs'],
        summary: "A fleet's children (started or joined) by bucket, newest first, in keyset pages",
        operationId: 'listRunChildren',
        params: RunParams,
        querystring: ChildrenQuery,
        response: { 200: ListAnswer, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const now = ctx.now();
      const { run: parent, access } = await visibleRun(
        { db: ctx.db, reads, now: ctx.now },
        request.principal,
        request.params.id,
        'operations.view',
      );
      const q = request.query;
      const page = await reads.list(
        {
          visibility: workspaceVisibility(access),
          from: new Date(0),
          parentId: parent.id,
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
      const written = pages.write(page.rows, nextCursor, now);
      return reply
        .type('application/json; charset=utf-8')
        .send(written as unknown as z.infer<typeof ListAnswer>);
    },
  );
};

/**
 * A fleet starts a run on each of its tenants: the caller must be allowed to start on every one.
 * A tenant-restricted member may start `all` only when every tenant of the workspace is theirs; a
 * slug they may not see is the same 404 as no such tenant.
 */
async function authorizeFleet(
  ctx: ApiContext,
  caller: Principal | undefined,
  ws: string,
  tenants: 'all' | string[],
): Promise<{ principal: Principal; access: WorkspaceAccess }> {
  const { principal, access } = authorize(
    caller,
    { kind: 'workspace', ref: ws },
    'operations.view',
  );
  let targets: string[];
  if (tenants === 'all') {
    const all = await ctx.db
      .selectFrom('tenants')
      .select('id')
      .where('workspace_id', '=', access.id)
      .execute();
    const restricted = access.restrictedTo;
    if (restricted && all.some((t) => !restricted.includes(t.id))) {
      throw new RunwardenError(
        'forbidden',
        'You may start operations on some tenants of this workspace only: name them instead of all.',
      );
    }
    targets = all.map((t) => t.id);
  } else {
    targets = tenants.map((slug) => {
      const tenant = access.tenants.find((t) => t.slug === slug);
      if (!tenant) throw notFound('tenant');
      return tenant.id;
    });
  }
  for (const tenantId of targets) authorizeStart(principal, ws, tenantId);
  return { principal, access };
}
