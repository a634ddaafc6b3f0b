import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { findWorkspace } from '../../access/authorize.js';
import { directoryReads } from '../../access/directory-reads.js';
import { ROLES } from '../../domain/capabilities.js';
import { RunwardenError } from '../../domain/errors.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { actorOf, workspaceManager } from './directory-access.js';

/** API tokens for machine clients and external runs: shown once, stored hashed (DESIGN §10). */
export const tokenRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const managed = workspaceManager(directoryReads(ctx.db));
  const { directory } = ctx;
  app.post(
    '/api/workspaces/:ws/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token; its secret is shown only in this answer (tokens.manage)',
        operationId: 'createToken',
        params: z.object({ ws: z.string().min(1).max(100) }),
        body: z.strictObject({ name: z.string().trim().min(1).max(100), role: z.enum(ROLES) }),
        response: {
          201: z.object({ id: z.string(), token: z.string() }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request, reply) => {
      // 404 when the caller may not see the workspace, as for listing its tokens; platform staff
      // see it, but a token acts for a member who manages tokens there, which they are not: 403.
      const { caller: principal, workspace } = await managed(
        request.principal,
        request.params.ws,
        'tokens.manage',
      );
      const access = findWorkspace(principal, workspace.id);
      if (!access?.capabilities.includes('tokens.manage'))
        throw new RunwardenError(
          'forbidden',
          'An API token acts for a member who manages tokens here; you are not one.',
          { details: { capability: 'tokens.manage' } },
        );
      // Through the directory, as from the CLI and the library: the token and its audit entry
      // (`token.created`) in one transaction, acting for the caller and never above their role.
      const created = await directory.createToken(
        { workspace: access.id, name: request.body.name, role: request.body.role },
        { actor: actorOf(principal) },
      );
      return reply.status(201).send({ id: created.id, token: created.token });
    },
  );
};
