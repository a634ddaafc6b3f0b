import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../../access/authorize.js';
import { createToken } from '../../access/tokens.js';
import { ROLES } from '../../domain/capabilities.js';
import { recordAudit } from '../../runs/audit.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';

/** API tokens for machine clients and external runs: shown once, stored hashed (DESIGN §10). */
export const tokenRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
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
      const { principal, access } = authorize(
        request.principal,
        { kind: 'workspace', ref: request.params.ws },
        'tokens.manage',
      );
      const created = await createToken(ctx.db, {
        workspaceId: access.id,
        name: request.body.name,
        role: request.body.role,
        createdBy: principal.userId,
      });
      await recordAudit(ctx.db, {
        actor: { userId: principal.userId, kind: principal.via === 'token' ? 'token' : 'user' },
        action: 'token.create',
        workspaceId: access.id,
        target: { type: 'api_token', id: created.id },
        details: { name: request.body.name, role: request.body.role },
      });
      return reply.status(201).send(created);
    },
  );
};
