import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { findWorkspace } from '../../access/authorize.js';
import { directoryReads } from '../../access/directory-reads.js';
import { ROLES } from '../../domain/capabilities.js';
import { RunwardenError } from '../../domain/errors.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { actorOf, workspaceManager } from './directory-access.js';

/**
 * API tokens for machine clients and external runs: shown once, stored hashed (DESIGN §10).
 * `hostResolved`: embedded under a host (DESIGN §15), where only the host's resolver vouches for
 * people, so no token is made here at all (the host makes service tokens through the library).
 */
export const tokenRoutes: FastifyPluginAsyncZod<ApiContext & { hostResolved?: boolean }> = async (
  app,
  ctx,
) => {
  const managed = workspaceManager(directoryReads(ctx.db));
  const { directory } = ctx;
  app.post(
    '/api/workspaces/:ws/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary:
          'Create an API token; its secret is shown only in this answer (tokens.manage; service: platform.directory)',
        description:
          'A member who manages tokens gets a person token acting for themselves. Platform staff ' +
          '(platform.directory) send `service: true` for a service token acting for the workspace ' +
          'itself: it outlives people leaving and its actions are audited as `service:<name>`.',
        operationId: 'createToken',
        params: z.object({ ws: z.string().min(1).max(100) }),
        body: z.strictObject({
          name: z.string().trim().min(1).max(100),
          role: z.enum(ROLES),
          service: z.boolean().optional(),
        }),
        response: {
          201: z.object({ id: z.string(), token: z.string(), kind: z.enum(['person', 'service']) }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request, reply) => {
      // 404 when the caller may not see the workspace, as for listing its tokens.
      const { caller: principal, workspace } = await managed(
        request.principal,
        request.params.ws,
        'tokens.manage',
      );
      if (ctx.hostResolved)
        throw new RunwardenError(
          'forbidden',
          'Under the host, people act only while the host vouches for them, so no API token is ' +
            'made here. The host makes a service token with rw.directory.createToken({workspace, name, role}).',
        );
      if (principal.service)
        throw new RunwardenError('forbidden', 'A service token cannot make API tokens.');
      const { name, role, service } = request.body;
      if (service) {
        if (!principal.platform.includes('platform.directory'))
          throw new RunwardenError(
            'forbidden',
            'Only platform staff (platform.directory) make service tokens; yours acts for you.',
            { details: { capability: 'platform.directory' } },
          );
        const created = await directory.createToken(
          { workspace: workspace.id, name, role },
          { actor: actorOf(principal) },
        );
        return reply.status(201).send({ id: created.id, token: created.token, kind: 'service' });
      }
      // Platform staff see the workspace, but a person token acts for a member who manages
      // tokens there, which they need not be: 403.
      const access = findWorkspace(principal, workspace.id);
      if (!access?.capabilities.includes('tokens.manage'))
        throw new RunwardenError(
          'forbidden',
          'A person token acts for a member who manages tokens here; you are not one ' +
            '(platform staff send service: true for a service token).',
          { details: { capability: 'tokens.manage' } },
        );
      // Through the directory, as from the CLI and the library: the token and its audit entry
      // (`token.created`) in one transaction, acting for the caller and never above their role.
      const created = await directory.createToken(
        { workspace: access.id, name, role, as: principal.email },
        { actor: actorOf(principal) },
      );
      return reply.status(201).send({ id: created.id, token: created.token, kind: 'person' });
    },
  );
};
