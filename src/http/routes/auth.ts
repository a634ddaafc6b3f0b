import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { startAccessPruner } from '../../access/access-pruner.js';
import { authenticated } from '../../access/authorize.js';
import { accountSubject, LoginThrottle } from '../../access/login-throttle.js';
import { DUMMY_HASH, verifyPassword } from '../../access/passwords.js';
import { RunwardenError } from '../../domain/errors.js';
import { recordAudit } from '../../runs/audit.js';
import type { ApiContext } from '../context.js';
import { tooManyAttempts } from '../errors.js';
import { errorResponses } from '../openapi.js';
import { MeSchema, UserSchema } from '../schemas.js';

export interface AuthRouteOptions extends ApiContext {
  /** Login attempts per client address per minute, across every API process. */
  loginPerMinute: number;
  /** Failed logins per account (email, whether or not it exists) per 15 minutes. */
  loginFailuresPerAccount: number;
  /** How often, on average, each process deletes expired sessions and throttle windows. */
  accessPruneMs: number;
  /** The demo logins the login page may list (empty unless the server runs the demo). */
  demoLogins: Array<{ email: string; description: string }>;
  /** Single sign-on is configured (the login page offers "Sign in with SSO"). */
  sso: boolean;
  /** RUNWARDEN_PASSWORD_LOGIN=false: password login answers 403. */
  passwordLogin: boolean;
}

const ACCOUNT_WINDOW_MS = 15 * 60_000;

/**
 * Login and the demo logins, public routes (DESIGN §10, §11). Logins are throttled in PostgreSQL,
 * so the limits hold across every API process (DESIGN §16): per client address (every attempt) and
 * per account (failed attempts, counted whether or not the account exists, so a refusal reveals
 * nothing). An attempt is counted before the password is checked, so racing attempts never get
 * more than the limit through; a successful login takes its account attempt back.
 */
export const authRoutes: FastifyPluginAsyncZod<AuthRouteOptions> = async (app, ctx) => {
  const throttle = new LoginThrottle(ctx.db, ctx.now);
  const byAddress = { name: 'address', max: ctx.loginPerMinute, windowMs: 60_000 };
  const byAccount = {
    name: 'account',
    max: ctx.loginFailuresPerAccount,
    windowMs: ACCOUNT_WINDOW_MS,
  };
  let pruner: ReturnType<typeof startAccessPruner> | undefined;
  app.addHook('onReady', async () => {
    pruner = startAccessPruner({
      db: ctx.db,
      throttle,
      now: ctx.now,
      everyMs: ctx.accessPruneMs,
      logger: ctx.logger,
    });
  });
  app.addHook('onClose', async () => pruner?.stop());

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with email and password: sets the session cookie, returns the CSRF token',
        operationId: 'login',
        body: z.strictObject({
          email: z.string().min(3).max(320),
          password: z.string().min(1).max(1024),
        }),
        response: {
          200: z.object({ user: UserSchema, csrfToken: z.string() }),
          // 401 wrong email or password; 403 password login turned off; 429 throttled.
          ...errorResponses(401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      if (!ctx.passwordLogin)
        throw new RunwardenError('forbidden', 'Password login is turned off; sign in with SSO.');
      const address = await throttle.count(byAddress, request.ip);
      if (!address.allowed)
        return tooManyAttempts(reply, address.retryAfterSeconds, 'login attempts');
      const account = await throttle.count(byAccount, accountSubject(email));
      if (!account.allowed)
        return tooManyAttempts(reply, account.retryAfterSeconds, 'login attempts');
      const user = await ctx.db
        .selectFrom('users')
        .select(['id', 'email', 'name', 'password_hash'])
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
        .executeTakeFirst();
      const ok = await verifyPassword(user?.password_hash ?? DUMMY_HASH, password);
      if (!user?.password_hash || !ok) {
        throw new RunwardenError('unauthenticated', 'The email or password is not right.');
      }
      await throttle.forgive(account);
      await request.session.regenerate();
      request.session.userId = user.id;
      const csrfToken = reply.generateCsrf();
      await recordAudit(ctx.db, { actor: { userId: user.id, kind: 'user' }, action: 'auth.login' });
      request.log.info({ userId: user.id }, 'login');
      return { user: { id: user.id, email: user.email, name: user.name }, csrfToken };
    },
  );

  app.get(
    '/api/auth/demo',
    {
      schema: {
        tags: ['auth'],
        summary: 'How one signs in here: SSO, password login, and the demo logins if any',
        operationId: 'getSignInOptions',
        response: {
          200: z.object({
            logins: z.array(z.object({ email: z.string(), description: z.string() })),
            /** How one signs in here: single sign-on configured, password login allowed. */
            sso: z.boolean(),
            passwordLogin: z.boolean(),
          }),
        },
      },
    },
    async () => ({ logins: ctx.demoLogins, sso: ctx.sso, passwordLogin: ctx.passwordLogin }),
  );
};

/** Logout: open to anyone, but it must know a session caller (and check its CSRF token) to end it. */
export const logoutRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/api/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: "Log out: ends the caller's session (a no-op without one)",
        operationId: 'logout',
        response: { 200: z.object({ ok: z.literal(true) }) },
      },
    },
    async (request) => {
      if (request.principal?.via === 'session') await request.session.destroy();
      return { ok: true as const };
    },
  );
};

/** Who am I: for signed-in callers only (registered in the authenticated scope). */
export const meRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who the caller is: user, CSRF token, workspaces with capabilities and tenants',
        operationId: 'getMe',
        response: { 200: MeSchema },
      },
    },
    async (request, reply) => {
      const principal = authenticated(request.principal);
      return {
        // A service token is nobody in person: it shows as itself (its id and name, no email).
        user: {
          id: principal.userId ?? principal.tokenId ?? '',
          email: principal.email,
          name: principal.name,
        },
        csrfToken: principal.via === 'session' ? reply.generateCsrf() : null,
        workspaces: principal.workspaces.map((w) => ({
          id: w.id,
          slug: w.slug,
          name: w.name,
          role: w.role,
          capabilities: [...w.capabilities],
          restricted: w.restrictedTo !== null,
          tenants: w.tenants,
        })),
        platform: { capabilities: principal.platform },
      };
    },
  );
};
