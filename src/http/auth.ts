import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import session from '@fastify/session';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import { loadTokenPrincipal, loadUserPrincipal, type Principal } from '../access/principal.js';
import { PgSessionStore } from '../access/session-store.js';
import { redeemToken } from '../access/tokens.js';
import type { Database } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface Session {
    userId?: string;
  }
}

export const SESSION_COOKIE = 'runwarden_session';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Paths that never need a caller (and so never cost a session or token lookup). */
const PUBLIC = [
  '/api/health',
  '/api/docs',
  '/api/openapi.json',
  '/api/auth/login',
  '/api/auth/demo',
];

/**
 * Identity for every request (DESIGN §10): a bearer API token, or a server-side session cookie
 * (HTTP-only, SameSite=Lax, Secure over HTTPS). Cookie-authenticated writes must carry
 * `x-csrf-token`; bearer requests need none, as no browser sends them by itself.
 */
export const authPlugin = fp<{ db: Kysely<Database>; secret: string }>(
  async (app: FastifyInstance, { db, secret }) => {
    await app.register(cookie);
    await app.register(session, {
      secret,
      cookieName: SESSION_COOKIE,
      store: new PgSessionStore(db),
      saveUninitialized: false,
      // A session lasts 12 h from login; rolling would write the session row on every request.
      rolling: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', path: '/', maxAge: 12 * 3600_000 },
    });
    await app.register(csrf, {
      sessionPlugin: '@fastify/session',
      getToken: (request: FastifyRequest) => request.headers['x-csrf-token'] as string | undefined,
    });
    app.decorateRequest('principal', undefined);

    app.addHook('onRequest', async (request) => {
      const path = request.url.split('?')[0] ?? '';
      if (!path.startsWith('/api/') || PUBLIC.some((p) => path.startsWith(p))) return;
      const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (bearer) {
        const token = await redeemToken(db, bearer.trim());
        if (!token) throw new RunwardenError('unauthenticated', 'The API token is not valid.');
        request.principal = await loadTokenPrincipal(db, token);
        if (!request.principal) {
          throw new RunwardenError('unauthenticated', 'The API token is not valid.');
        }
        return;
      }
      const userId = request.session.userId;
      if (!userId) return;
      request.principal = await loadUserPrincipal(db, userId);
    });
    // The CSRF check answers 403 itself when the token is missing or wrong.
    app.addHook('onRequest', (request, reply, done) => {
      if (request.principal?.via === 'session' && WRITE_METHODS.has(request.method)) {
        app.csrfProtection(request, reply, done);
      } else done();
    });
  },
  { name: 'runwarden-auth' },
);
