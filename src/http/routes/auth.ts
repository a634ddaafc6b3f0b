import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated } from '../../access/authorize.js';
import { DUMMY_HASH, verifyPassword } from '../../access/passwords.js';
import { RunwardenError } from '../../domain/errors.js';
import { recordAudit } from '../../runs/audit.js';
import type { ApiContext } from '../context.js';
import { MeSchema, UserSchema } from '../schemas.js';

export interface AuthRouteOptions extends ApiContext {
  loginPerMinute: number;
  /** The demo logins the login page may list (empty unless the server runs the demo). */
  demoLogins: Array<{ email: string; description: string }>;
}

/** Login, logout and "who am I" (DESIGN §10, §11). */
export const authRoutes: FastifyPluginAsyncZod<AuthRouteOptions> = async (app, ctx) => {
  app.post(
    '/api/auth/login',
    {
      config: { rateLimit: { max: ctx.loginPerMinute, timeWindow: '1 minute' } },
      schema: {
        tags: ['auth'],
        body: z.object({
          email: z.string().min(3).max(320),
          password: z.string().min(1).max(1024),
        }),
        response: { 200: z.object({ user: UserSchema, csrfToken: z.string() }) },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      const user = await ctx.db
        .selectFrom('users')
        .select(['id', 'email', 'name', 'password_hash'])
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
        .executeTakeFirst();
      const ok = await verifyPassword(user?.password_hash ?? DUMMY_HASH, password);
      if (!user?.password_hash || !ok) {
        throw new RunwardenError('unauthenticated', 'The email or password is not right.');
      }
      await request.session.regenerate();
      request.session.userId = user.id;
      const csrfToken = reply.generateCsrf();
      await recordAudit(ctx.db, { actor: { userId: user.id, kind: 'user' }, action: 'auth.login' });
      request.log.info({ userId: user.id }, 'login');
      return { user: { id: user.id, email: user.email, name: user.name }, csrfToken };
    },
  );

  app.post(
    '/api/auth/logout',
    { schema: { tags: ['auth'], response: { 200: z.object({ ok: z.literal(true) }) } } },
    async (request) => {
      if (request.principal?.via === 'session') await request.session.destroy();
      return { ok: true as const };
    },
  );

  app.get(
    '/api/auth/demo',
    {
      schema: {
        tags: ['auth'],
        response: {
          200: z.object({
            logins: z.array(z.object({ email: z.string(), description: z.string() })),
          }),
        },
      },
    },
    async () => ({ logins: ctx.demoLogins }),
  );

  app.get(
    '/api/me',
    { schema: { tags: ['auth'], response: { 200: MeSchema } } },
    async (request, reply) => {
      const principal = authenticated(request.principal);
      return {
        user: { id: principal.userId, email: principal.email, name: principal.name },
        csrfToken: principal.via === 'session' ? reply.generateCsrf() : null,
        workspaces: principal.workspaces.map((w) => ({
          id: w.id,
          slug: w.slug,
          name: w.name,
          role: w.role,
          capabilities: [...w.capabilities],
          tenants: w.tenants,
        })),
        platform: { capabilities: principal.platform },
      };
    },
  );
};
