import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { findWorkspace } from '../../access/authorize.js';
import { directoryReads } from '../../access/directory-reads.js';
import { createToken } from '../../access/tokens.js';
import { ROLES } from '../../domain/capabilities.js';
import { RunwardenError } from '../../domain/errors.js';
import { recordAudit } from '../../runs/audit.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { workspaceManager } from './directory-access.js';

/** API tokens for machine clients and external runs: shown once, stored hashed (DESIGN §10). */
export const tokenRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const managed = workspaceManager(directoryReads(ctx.db));
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
      // The token and its audit entry in one transaction: never a token nobody audited.
      const created = await ctx.db.transaction().execute(async (trx) => {
        const token = await createToken(trx, {
          workspaceId: access.id,
          name: request.body.name,
          role: request.body.role,
          createdBy: principal.userId,
        });
        await recordAudit(trx, {
          actor: { userId: principal.userId, kind: principal.via === 'token' ? 'token' : 'user' },
          action: 'token.create',
          workspaceId: access.id,
          target: { type: 'api_token', id: token.id },
          details: { name: request.body.name, role: request.body.role },
        });
        return token;
      });
      return reply.status(201).send(created);
    },
  );
};
