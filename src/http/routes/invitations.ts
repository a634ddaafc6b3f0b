import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated } from '../../access/authorize.js';
import { LoginThrottle } from '../../access/login-throttle.js';
import { personId } from '../../access/principal.js';
import { RunwardenError } from '../../domain/errors.js';
import type { ApiContext } from '../context.js';
import { tooManyAttempts } from '../errors.js';
import { errorResponses } from '../openapi.js';
import { actorOf, NoContent } from './directory-access.js';

/**
 * `POST /api/invitations/accept`: the person a workspace owner added joins (DESIGN §10). Signed
 * in as the email the offer names, or, when no account has it, by setting a password. The token
 * travels in the body, never in a URL a log could keep. Registered where the caller is identified.
 */
export const invitationRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const { directory } = ctx;
  // Creating an account hashes a password: throttled per client address like logins.
  const throttle = new LoginThrottle(ctx.db, ctx.now);
  const byAddress = { name: 'invitation-accept', max: 10, windowMs: 60_000 };
  app.post(
    '/api/invitations/accept',
    {
      schema: {
        tags: ['auth'],
        summary: 'Accept a membership a workspace owner offered, with its one-time link',
        description:
          'Without `newPassword`: as the signed-in user the invitation names (a session). With it: ' +
          'creates the account when no account has that email (then log in); an existing account ' +
          'is never given a password this way (409: sign in with it and accept).',
        operationId: 'acceptInvitation',
        body: z.strictObject({
          token: z.string().min(1).max(200),
          newPassword: z.string().min(8).max(1000).optional(),
        }),
        // 400 `invite_invalid` unknown, used, expired or withdrawn; 401 no newPassword and not
        // signed in; 403 signed in as someone else; 409 the email has an account; 429 throttled.
        response: { 204: NoContent, ...errorResponses(401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const { token, newPassword } = request.body;
      if (newPassword !== undefined) {
        const attempt = await throttle.count(byAddress, request.ip);
        if (!attempt.allowed)
          return tooManyAttempts(reply, attempt.retryAfterSeconds, 'invitation attempts');
        await directory.acceptInvitation(
          { token, newPassword },
          { actor: { userId: null, kind: 'system', source: 'http' } },
        );
        return reply.status(204).send(null);
      }
      const caller = authenticated(request.principal);
      if (caller.via !== 'session')
        throw new RunwardenError('forbidden', 'Accept an invitation from a signed-in session.');
      await directory.acceptInvitation(
        { token, userId: personId(caller) },
        { actor: actorOf(caller) },
      );
      return reply.status(204).send(null);
    },
  );
};
