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
 * in as the email the offer names, or, when no account has it, by setting a password. With a
 * password for an email that has an account the answer is the same 204 and nothing is written, so
 * the link's holder (maybe the owner) never learns from it who has an account. The token travels
 * in the body, never in a URL a log could keep. Registered where the caller is identified.
 */
export interface InvitationRouteOptions extends ApiContext {
  /** Acceptances with a password per client address per minute (the login limit). */
  loginPerMinute: number;
}

export const invitationRoutes: FastifyPluginAsyncZod<InvitationRouteOptions> = async (app, ctx) => {
  const { directory } = ctx;
  // Creating an account hashes a password (so does the answer for an email that has one):
  // throttled per client address like logins.
  const throttle = new LoginThrottle(ctx.db, ctx.now);
  const byAddress = { name: 'invitation-accept', max: ctx.loginPerMinute, windowMs: 60_000 };
  app.post(
    '/api/invitations/accept',
    {
      schema: {
        tags: ['auth'],
        summary: 'Accept a membership a workspace owner offered, with its one-time link',
        description:
          'Without `newPassword`: as the signed-in user the invitation names (a session); refused ' +
          "(403) for an account whose password was itself chosen through an owner's invitation link, " +
          'until the platform vouches for it (SSO sign-in, or a set-password link from its directory). ' +
          'With `newPassword`: creates the account when no account has that email (then log in). ' +
          'When the email has an account, the answer is the same 204 and nothing changes: an ' +
          'existing account is never given a password this way, and the invitation stays open for ' +
          'its person to sign in and accept.',
        operationId: 'acceptInvitation',
        body: z.strictObject({
          token: z.string().min(1).max(200),
          newPassword: z.string().min(8).max(1000).optional(),
        }),
        // 400 `invite_invalid` unknown, used, expired or withdrawn; 401 no newPassword and not
        // signed in; 403 signed in as someone else, or as an account an invitation link made;
        // 429 throttled.
        response: { 204: NoContent, ...errorResponses(401, 403, 429) },
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
