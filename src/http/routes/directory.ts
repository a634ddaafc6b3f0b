import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../../access/authorize.js';
import { Slug } from '../../access/directory-input.js';
import { directoryReads } from '../../access/directory-reads.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { TokenSchema } from '../schemas.js';
import { actorOf, NoContent, WsParam, workspaceManager } from './directory-access.js';
import { memberRoutes } from './members.js';

export { passwordRoutes } from './password.js';

const WorkspaceSchema = z.object({ id: z.string(), slug: z.string(), name: z.string() });

/**
 * Directory and access management (DESIGN §10, §11): platform staff with platform.directory
 * create workspaces and manage any workspace; a workspace owner manages their own (tenants and
 * members: workspace.manage; tokens: tokens.manage). Outsiders get 404, as if it did not exist.
 * Every write goes through the directory module: one audited transaction, nothing written on error.
 */
export const directoryRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const { directory } = ctx;
  const reads = directoryReads(ctx.db);
  const managed = workspaceManager(reads);

  app.post(
    '/api/workspaces',
    {
      schema: {
        tags: ['directory'],
        summary: 'Create or rename a workspace (platform.directory)',
        operationId: 'upsertWorkspace',
        body: z.strictObject({ slug: Slug, name: z.string().trim().min(1).max(200) }),
        response: { 200: WorkspaceSchema, 201: WorkspaceSchema, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const { principal } = authorize(
        request.principal,
        { kind: 'platform' },
        'platform.directory',
      );
      const result = await directory.upsertWorkspace(request.body, { actor: actorOf(principal) });
      return reply.status(result.outcome === 'created' ? 201 : 200).send(result.workspace);
    },
  );

  await memberRoutes(app, ctx);

  app.get(
    '/api/workspaces/:ws/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: "List a workspace's API tokens, never their secrets (tokens.manage)",
        operationId: 'listTokens',
        params: WsParam,
        response: { 200: z.object({ items: z.array(TokenSchema) }), ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { workspace } = await managed(request.principal, request.params.ws, 'tokens.manage');
      return { items: await reads.tokens(workspace.id) };
    },
  );

  app.delete(
    '/api/workspaces/:ws/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token at once (tokens.manage)',
        operationId: 'revokeToken',
        params: WsParam.extend({ id: z.uuid() }),
        response: { 204: NoContent, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const { caller, workspace } = await managed(
        request.principal,
        request.params.ws,
        'tokens.manage',
      );
      await directory.revokeToken(
        { workspace: workspace.id, id: request.params.id },
        { actor: actorOf(caller) },
      );
      return reply.status(204).send(null);
    },
  );
};
