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

export interface PasswordRouteOptions extends ApiContext {
  /** Invite redemptions per client address per minute (the login limit), across every process. */
  loginPerMinute: number;
}

/**
 * `POST /api/auth/password`: redeem an invite (no login needed) or change one's own password with
 * the current one (a session). Registered where the caller is identified but not required.
 */
export const passwordRoutes: FastifyPluginAsyncZod<PasswordRouteOptions> = async (app, ctx) => {
  const { directory } = ctx;
  // Guessing the current password from a session is throttled like logins (DESIGN §16): wrong
  // guesses per user per 15 minutes, counted before the check, a right one taken back.
  const throttle = new LoginThrottle(ctx.db, ctx.now);
  const byUser = { name: 'password-change', max: 10, windowMs: 15 * 60_000 };
  // Redeeming is anonymous: every attempt counts per client address, as logins do (DESIGN §10).
  const byAddress = { name: 'invite-address', max: ctx.loginPerMinute, windowMs: 60_000 };
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
        // 400 `invite_invalid` an invite that is unknown, used, expired or of a user disabled since
        // (one answer for all: it does not work); 403 a wrong current password, or not from a
        // session; 429 too many wrong current passwords, or invites tried from one address.
        response: { 204: NoContent, ...errorResponses(403, 429) },
      },
    },
    async (request, reply) => {
      const { newPassword, currentPassword, inviteToken } = request.body;
      if (inviteToken !== undefined) {
        const attempt = await throttle.count(byAddress, request.ip);
        if (!attempt.allowed)
          return tooManyAttempts(reply, attempt.retryAfterSeconds, 'invite attempts');
        await directory.redeemInvite(inviteToken, newPassword);
        return reply.status(204).send(null);
      }
      const caller = authenticated(request.principal);
      if (caller.via !== 'session')
        throw new RunwardenError('forbidden', 'Change a password from a signed-in session.');
      const userId = personId(caller);
      const attempt = await throttle.count(byUser, userId);
      if (!attempt.allowed)
        return tooManyAttempts(reply, attempt.retryAfterSeconds, 'wrong passwords');
      await directory.changePassword(
        {
          userId,
          currentPassword: currentPassword ?? '',
          newPassword,
          keepSession: request.session.sessionId,
        },
        { actor: actorOf(caller) },
      );
      await throttle.forgive(attempt);
      return reply.status(204).send(null);
    },
  );
};
