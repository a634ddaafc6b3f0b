import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../access/authorize.js';
import type { ApiContext } from './context.js';
import { errorResponses } from './openapi.js';
import { readModelOf } from './run-view.js';

const Named = z.object({ id: z.string(), slug: z.string(), name: z.string() });

/** What the system plane shows around a run: names instead of ids, and its worker. */
export const RunContextSchema = z.object({
  runId: z.string(),
  workspace: Named,
  tenant: Named.nullable(),
  /** The worker that last held the run (null: never picked up), as it last reported. */
  worker: z
    .object({
      id: z.string(),
      /** From the worker's registration; null once it is pruned or if it never registered. */
      host: z.string().nullable(),
      lastSeenAt: z.string().nullable(),
      stoppedAt: z.string().nullable(),
    })
    .nullable(),
});

const Ids = z
  .string()
  .transform((value) => [...new Set(value.split(',').filter(Boolean))])
  .pipe(z.array(z.uuid()).min(1).max(200));

/**
 * `GET /api/system/ops/context?ids=…` (system.ops.view): the workspace and tenant names and the
 * worker of the runs the stuck and failure lists show (issue #14 point 11: names, not ids; the
 * stuck list shows the worker and its heartbeat age). Unknown ids are left out.
 */
export const systemContextRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const reads = readModelOf(ctx);
  app.get(
    '/api/system/ops/context',
    {
      schema: {
        tags: ['system'],
        summary: 'Names and workers of runs on the system plane (system.ops.view)',
        operationId: 'systemRunContext',
        querystring: z.object({ ids: Ids }),
        response: {
          200: z.object({ items: z.array(RunContextSchema) }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => {
      authorize(request.principal, { kind: 'platform' }, 'system.ops.view');
      const runs = await reads.findMany(request.query.ids);
      if (!runs.length) return { items: [] };
      const ids = (values: Array<string | null>) => [
        ...new Set(values.filter((v): v is string => v !== null)),
      ];
      const workspaceIds = ids(runs.map((r) => r.workspace_id));
      const tenantIds = ids(runs.map((r) => r.tenant_id));
      const workerIds = ids(runs.map((r) => r.worker_id));
      const [workspaces, tenants, workers] = await Promise.all([
        ctx.db
          .selectFrom('workspaces')
          .select(['id', 'slug', 'name'])
          .where('id', 'in', workspaceIds)
          .execute(),
        tenantIds.length
          ? ctx.db
              .selectFrom('tenants')
              .select(['id', 'slug', 'name'])
              .where('id', 'in', tenantIds)
              .execute()
          : [],
        workerIds.length
          ? ctx.db
              .selectFrom('workers')
              .select(['id', 'host', 'last_seen_at', 'stopped_at'])
              .where('id', 'in', workerIds)
              .execute()
          : [],
      ]);
      const byId = <T extends { id: string }>(rows: T[]) => new Map(rows.map((r) => [r.id, r]));
      const [ws, ts, wk] = [byId(workspaces), byId(tenants), byId(workers)];
      return {
        items: runs.flatMap((run) => {
          const workspace = ws.get(run.workspace_id);
          if (!workspace) return [];
          const tenant = run.tenant_id ? (ts.get(run.tenant_id) ?? null) : null;
          const worker = run.worker_id ? wk.get(run.worker_id) : undefined;
          return [
            {
              runId: run.id,
              workspace,
              tenant,
              worker: run.worker_id
                ? {
                    id: run.worker_id,
                    host: worker?.host ?? null,
                    lastSeenAt: worker?.last_seen_at.toISOString() ?? null,
                    stoppedAt: worker?.stopped_at?.toISOString() ?? null,
                  }
                : null,
            },
          ];
        }),
      };
    },
  );
};
