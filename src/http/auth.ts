import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import session from '@fastify/session';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { BadTokenThrottle } from '../access/bad-token-throttle.js';
import { loadTokenPrincipal, loadUserPrincipal, type Principal } from '../access/principal.js';
import {
  PgSessionStore,
  SESSION_CALLER,
  SessionCaller,
  sessionPrincipal,
} from '../access/session-store.js';
import { redeemToken } from '../access/tokens.js';
import type { Database } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { tooManyAttempts } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /**
     * Reads the caller again the way this request found them (the same session, token or host
     * resolver); undefined once they are no longer a caller. A live stream re-checks with it.
     */
    reloadPrincipal?: () => Promise<Principal | undefined>;
  }
  interface Session {
    userId?: string;
    /** The session's user, read beside it by a caller-reading store (never stored). */
    [SESSION_CALLER]?: SessionCaller;
  }
}

/**
 * A caller resolved by someone else (a host platform's own login, DESIGN §15) instead of a
 * Runwarden session: it acts like a session caller (`via: 'session'`, CSRF-checked writes).
 */
export type ExternalCaller = (request: FastifyRequest) => Promise<Principal | undefined>;

export const SESSION_COOKIE = 'runwarden_session';
/** Methods that write: a cookie-authenticated one must carry the CSRF token. */
export const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The session machinery every scope shares (DESIGN §10): a server-side session behind an HTTP-only,
 * SameSite=Lax cookie (Secure over HTTPS), and CSRF tokens bound to it. It looks nobody up by
 * itself: a scope that wants to know its caller registers `identifyCaller` or `requireCaller`, and
 * sets `callers` so the session's read brings its user along (one round trip, not two).
 */
export const authPlugin = fp<{
  db: Kysely<Database>;
  secret: string;
  csrfCookiePath?: string;
  callers?: boolean;
}>(
  async (app: FastifyInstance, { db, secret, csrfCookiePath, callers }) => {
    await app.register(cookie, csrfCookiePath ? { secret } : {});
    await app.register(session, {
      secret,
      cookieName: SESSION_COOKIE,
      store: new PgSessionStore(db, undefined, { callers }),
      saveUninitialized: false,
      // A session lasts 12 h from login; rolling would write the session row on every request.
      rolling: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', path: '/', maxAge: 12 * 3600_000 },
    });
    const getToken = (request: FastifyRequest) =>
      request.headers['x-csrf-token'] as string | undefined;
    // Embedded under a host's own login (DESIGN §15) there is no Runwarden session: the CSRF
    // secret lives in its own signed, HTTP-only, SameSite=Strict cookie scoped to the mount path.
    await app.register(
      csrf,
      csrfCookiePath
        ? {
            sessionPlugin: '@fastify/cookie',
            cookieKey: 'runwarden_csrf',
            cookieOpts: { path: csrfCookiePath, httpOnly: true, sameSite: 'strict', signed: true },
            getToken,
          }
        : { sessionPlugin: '@fastify/session', getToken },
    );
    app.decorateRequest('principal', undefined);
    app.decorateRequest('reloadPrincipal', undefined);
  },
  { name: 'runwarden-auth' },
);

/** The token of an `Authorization: Bearer <token>` header; '' for any other header or none. */
export function bearerOf(header: string | undefined): string {
  return /^Bearer (.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
}

export interface CallerOptions {
  db: Kysely<Database>;
  external?: ExternalCaller | undefined;
  /** Bearer values that name no live token, throttled per client address (429 past the limit). */
  badTokens?: BadTokenThrottle | undefined;
}

/**
 * Sets `request.principal` for every request of the scope it is registered in: a bearer API token
 * (one that is not valid answers 401), or the session's user; anonymous otherwise. Cookie-
 * authenticated writes must then carry `x-csrf-token`; bearer requests need none, as no browser
 * sends them by itself.
 */
export const identifyCaller = fp<CallerOptions>(async (scope, { db, external, badTokens }) => {
  scope.addHook('onRequest', async (request, reply) => {
    const bearer = bearerOf(request.headers.authorization);
    if (bearer) {
      const wait = badTokens?.waitFor(request.ip) ?? 0;
      if (wait) return tooManyAttempts(reply, wait, 'invalid API tokens');
      const tokenCaller = async () => {
        const token = await redeemToken(db, bearer);
        // Under a host only its resolver vouches for people (DESIGN §15): a person token would
        // outlive that, so only the host's service tokens are accepted there.
        if (token && external && token.createdBy !== null)
          throw new RunwardenError(
            'unauthenticated',
            'Under the host only service tokens are accepted; people sign in through the host.',
          );
        return token ? await loadTokenPrincipal(db, token) : undefined;
      };
      request.principal = await tokenCaller();
      if (!request.principal) {
        const retry = await badTokens?.failed(request.ip);
        if (retry) return tooManyAttempts(reply, retry, 'invalid API tokens');
        throw new RunwardenError('unauthenticated', 'The API token is not valid.');
      }
      request.reloadPrincipal = tokenCaller;
      return;
    }
    if (external) {
      request.principal = await external(request);
      // No reload: the host's resolver, asked again with this request, reads what its session held
      // when the request came (a host logout is invisible to it). A stream of a host's caller
      // therefore ends at its first re-check and reconnects, resuming from its last event, so the
      // resolver is asked with the browser's current cookies (DESIGN §10).
      request.reloadPrincipal = undefined;
      return;
    }
    const userId = request.session.userId;
    if (!userId) return;
    // The user as the session's own read found it (same statement, same snapshot), if it did.
    const read = request.session[SESSION_CALLER];
    request.principal =
      read instanceof SessionCaller && read.userId === userId
        ? read.principal
        : await loadUserPrincipal(db, userId);
    const sid = request.session.sessionId;
    request.reloadPrincipal = () => sessionPrincipal(db, sid, userId);
  });
  // The CSRF check answers 403 itself when the token is missing or wrong.
  scope.addHook('onRequest', (request, reply, done) => {
    if (request.principal?.via === 'session' && WRITE_METHODS.has(request.method)) {
      scope.csrfProtection(request, reply, done);
    } else done();
  });
});

/**
 * Closes the scope it is registered in (DESIGN §10): every request needs a caller, a session or
 * an API token, before anything of the route runs (body parsing, validation, handler); anonymous
 * callers get 401 `unauthenticated`. A route registered there cannot be reached anonymously,
 * whatever it forgets to check.
 */
export const requireCaller = fp<CallerOptions>(async (scope, options) => {
  await scope.register(identifyCaller, options);
  scope.addHook('onRequest', async (request) => {
    if (!request.principal) throw new RunwardenError('unauthenticated');
  });
});
