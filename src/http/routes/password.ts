import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated } from '../../access/authorize.js';
import { createDirectory } from '../../access/directory.js';
import { RunwardenError } from '../../domain/errors.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { actorOf, NoContent } from './directory-access.js';

/**
 * `POST /api/auth/password`: redeem an invite (no login needed) or change one's own password with
 * the current one (a session). Registered where the caller is identified but not required.
 */
export const passwordRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const directory = createDirectory({ db: ctx.db });
  app.post(
    '/api/auth/password',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set a password from an invite link, or change your own',
        operationId: 'setPassword',
        body: z
          .strictObject({
            newPassword: z.string().min(8).max(1000),
            currentPassword: z.string().max(1000).optional(),
            inviteToken: z.string().min(1).max(200).optional(),
          })
          .refine((b) => (b.currentPassword === undefined) !== (b.inviteToken === undefined), {
            message: 'send currentPassword or inviteToken (one of them)',
          }),
        // 403 a wrong current password, or not from a session; 404 an invite that is unknown, used,
        // expired or of a user disabled since (one answer for all: it does not work).
        response: { 204: NoContent, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const { newPassword, currentPassword, inviteToken } = request.body;
      if (inviteToken !== undefined) {
        await directory.redeemInvite(inviteToken, newPassword);
        return reply.status(204).send(null);
      }
      const caller = authenticated(request.principal);
      if (caller.via !== 'session')
        throw new RunwardenError('forbidden', 'Change a password from a signed-in session.');
      await directory.changePassword(
        { userId: caller.userId, currentPassword: currentPassword ?? '', newPassword },
        { actor: actorOf(caller) },
      );
      return reply.status(204).send(null);
    },
  );
};
