import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize, notFound } from '../../access/authorize.js';
import { actorOf, type Principal, type WorkspaceAccess } from '../../access/principal.js';
import { RunwardenError } from '../../domain/errors.js';
import { createPause, findPause, liftPause, listPauses, pauseJson } from '../../flow/pauses.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { PauseSchema } from '../schemas.js';
import { NoContent, WsParam } from './directory-access.js';

/**
 * Who may pause and resume: those who may cancel runs (owners and managers). A member restricted
 * to some tenants pauses and resumes only those tenants.
 */
export const PAUSE_CAPABILITY = 'operations.cancel';

/** Pausing and resuming a workspace's types and tenants (DESIGN §11, §17). */
export const pauseRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  /** The caller's access to act on pauses of `tenantId` (null: every tenant) in `ws`. */
  function pauser(principal: Principal | undefined, ws: string, tenantId: string | null) {
    const allowed = authorize(
      principal,
      { kind: 'workspace', ref: ws, tenantId },
      PAUSE_CAPABILITY,
    );
    if (tenantId === null && allowed.access.restrictedTo !== null)
      throw new RunwardenError(
        'forbidden',
        'You act for some tenants only: pause or resume one of them (tenantId).',
        { details: { capability: PAUSE_CAPABILITY } },
      );
    return allowed;
  }

  app.get(
    '/api/workspaces/:ws/pauses',
    {
      schema: {
        tags: ['flow'],
        summary: "List a workspace's pauses (operations.view)",
        description:
          'A member restricted to some tenants sees the pauses of those tenants and the ' +
          'workspace-wide ones (of a type, or of everything).',
        operationId: 'listPauses',
        params: WsParam,
        response: { 200: z.object({ items: z.array(PauseSchema) }), ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { access } = authorize(
        request.principal,
        { kind: 'workspace', ref: request.params.ws },
        'operations.view',
      );
      const pauses = await listPauses(ctx.db, access.id, visibleTenants(access));
      return { items: pauses.map(pauseJson) };
    },
  );

  app.post(
    '/api/workspaces/:ws/pauses',
    {
      schema: {
        tags: ['flow'],
        summary: 'Pause a type, a tenant, or a type for a tenant (operations.cancel)',
        description:
          'Runs of the scope wait (queued, never started) until the pause is lifted; running runs ' +
          'finish. Neither type nor tenantId pauses the whole workspace. Every worker honours it ' +
          'within a second. A scope already paused is a 409 naming that pause in `details.pause`.',
        operationId: 'createPause',
        params: WsParam,
        body: z.strictObject({
          type: z.string().min(1).max(200).nullish(),
          tenantId: z.uuid().nullish(),
        }),
        // 404 no such tenant (or one the caller may not see); 409 already paused; 422 unknown type.
        response: { 201: PauseSchema, ...errorResponses(403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const tenantId = request.body.tenantId ?? null;
      const { principal, access } = pauser(request.principal, request.params.ws, tenantId);
      const pause = await createPause(
        ctx.db,
        { workspaceId: access.id, type: request.body.type ?? null, tenantId },
        { actor: actorOf(principal), source: 'http', types: ctx.registry.list() },
      );
      return reply.status(201).send(pauseJson(pause));
    },
  );

  app.delete(
    '/api/workspaces/:ws/pauses/:id',
    {
      schema: {
        tags: ['flow'],
        summary: 'Lift a pause: its runs wait for admission again at once (operations.cancel)',
        operationId: 'deletePause',
        params: WsParam.extend({ id: z.uuid() }),
        response: { 204: NoContent, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const { access } = authorize(
        request.principal,
        { kind: 'workspace', ref: request.params.ws },
        'operations.view',
      );
      const ref = { workspaceId: access.id, id: request.params.id };
      const pause = await findPause(ctx.db, ref);
      // A pause of a tenant the caller may not see is as absent as one that never was.
      if (!pause || !visibleTo(access, pause.tenantId)) throw notFound('pause');
      const { principal } = pauser(request.principal, request.params.ws, pause.tenantId);
      if (!(await liftPause(ctx.db, ref, { actor: actorOf(principal), source: 'http' })))
        throw notFound('pause');
      return reply.status(204).send(null);
    },
  );
};

function visibleTenants(access: WorkspaceAccess): string[] | null {
  return access.restrictedTo === null ? null : access.tenants.map((t) => t.id);
}

function visibleTo(access: WorkspaceAccess, tenantId: string | null): boolean {
  return tenantId === null || access.tenants.some((t) => t.id === tenantId);
}
