import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize, notFound } from '../../access/authorize.js';
import { actorOf } from '../../access/principal.js';
import type { OperationRegistry } from '../../execution/registry.js';
import { type LimitView, limitsView } from '../../flow/limits-view.js';
import { clearOverride, type FlowCatalog, setOverride } from '../../flow/overrides.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { type FlowLimitsSchema, FlowLimitViewSchema } from '../schemas.js';

const Positive = z.number().int().min(1);
const Rate = z.strictObject({ limit: Positive, intervalSeconds: z.number().positive() });
/** The catalog's shape; cross-field rules (perTenant ≤ total, windows) are checked after. */
const LimitsBody = z.strictObject({
  concurrency: z
    .strictObject({ perTenant: Positive.optional(), total: Positive.optional() })
    .optional(),
  rate: z.strictObject({ perTenant: Rate.optional(), total: Rate.optional() }).optional(),
});
const NameParams = z.object({ name: z.string().min(1).max(200) });
const LimitAnswer = z.object({ limit: FlowLimitViewSchema });

export function flowCatalogOf(registry: OperationRegistry): FlowCatalog {
  return {
    types: registry.list(),
    pools: registry.flowPools,
    queuedStaleSeconds: (type) => registry.policyOf(type).queuedStaleAfterSeconds,
  };
}

function limitJson(view: LimitView): z.infer<typeof FlowLimitViewSchema> {
  return {
    name: view.name,
    kind: view.kind,
    types: view.types,
    concurrency: view.limits.concurrency ?? null,
    rate: view.limits.rate ?? null,
    declared: view.declared,
    override: view.override
      ? {
          ...view.override.limits,
          updatedBy: view.override.updatedBy,
          updatedAt: view.override.updatedAt.toISOString(),
        }
      : null,
    running: view.running,
    waiting: view.waiting,
  };
}

/** Platform staff's view and runtime overrides of the flow limits (DESIGN §11, §17). */
export const systemFlowRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const catalog = flowCatalogOf(ctx.registry);
  const viewOf = async (name: string) => {
    const view = (await limitsView(ctx.db, catalog)).find((l) => l.name === name);
    if (!view) throw notFound('flow limit');
    return { limit: limitJson(view) };
  };

  app.get(
    '/api/system/flow',
    {
      schema: {
        tags: ['system'],
        summary: 'Every flow limit with its running and waiting runs (system.ops.view)',
        operationId: 'listFlowLimits',
        response: {
          200: z.object({ limits: z.array(FlowLimitViewSchema) }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => {
      authorize(request.principal, { kind: 'platform' }, 'system.ops.view');
      return { limits: (await limitsView(ctx.db, catalog)).map(limitJson) };
    },
  );

  app.put(
    '/api/system/flow/limits/:name',
    {
      schema: {
        tags: ['system'],
        summary: "Override a type's or a pool's limits at runtime (system.ops.triage)",
        description:
          'Replaces the limits as a whole (a part left out has no limit), checked by the ' +
          "catalog's rules; every worker applies it within a second. Audited.",
        operationId: 'overrideFlowLimit',
        params: NameParams,
        body: LimitsBody,
        // 404 no limit by that name (or not platform staff).
        response: { 200: LimitAnswer, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { principal } = authorize(request.principal, { kind: 'platform' }, 'system.ops.triage');
      const limits: z.infer<typeof FlowLimitsSchema> = request.body;
      await setOverride(ctx.db, catalog, request.params.name, limits, {
        actor: actorOf(principal),
      });
      return await viewOf(request.params.name);
    },
  );

  app.delete(
    '/api/system/flow/limits/:name',
    {
      schema: {
        tags: ['system'],
        summary: "Put the catalog's limits back (system.ops.triage)",
        description:
          'Removes the override, if any, and answers the limit as it now is (404: the catalog ' +
          'has no limit by that name). Audited.',
        operationId: 'restoreFlowLimit',
        params: NameParams,
        response: { 200: LimitAnswer, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { principal } = authorize(request.principal, { kind: 'platform' }, 'system.ops.triage');
      await clearOverride(ctx.db, catalog, request.params.name, { actor: actorOf(principal) });
      return await viewOf(request.params.name);
    },
  );
};
