import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import * as oidc from 'openid-client';
import { z } from 'zod';
import { applyOidcGrants, parseOidcGrants } from '../../access/oidc-grants.js';
import type { OidcConfig } from '../../config.js';
import type { Database } from '../../db/schema.js';
import { isDatabaseUnavailable } from '../../db/unavailable.js';
import { RunwardenError } from '../../domain/errors.js';
import { sameOriginPath } from '../../domain/redirect-target.js';
import { recordAudit } from '../../runs/audit.js';
import { PendingSignInSeal } from '../oidc-state.js';

export interface OidcRouteOptions {
  db: Kysely<Database>;
  oidc: OidcConfig;
  /** RUNWARDEN_PUBLIC_URL: the redirect URI is `<publicUrl>/api/auth/oidc/callback`. */
  publicUrl: string;
  /** The server's secret: it seals the sign-in in progress into its cookie. */
  secret: string;
}

/** How long a sign-in may take at the provider before its state is refused. */
const PENDING_MS = 10 * 60_000;
const FAILED = '/login?error=sso';
/** The sign-in in progress, sealed (see PendingSignInSeal), sent back only to the callback. */
const PENDING_COOKIE = 'runwarden_oidc';

/**
 * Single sign-on with an OpenID provider (DESIGN §15), public routes registered only when OIDC is
 * configured: authorization code flow with PKCE, state and nonce kept in a sealed, HTTP-only
 * cookie scoped to the callback (an anonymous visitor writes no row). The callback maps the role
 * claim to memberships and platform capabilities through the directory, then logs the user in
 * exactly as a password login does. Only an email the provider says is verified signs in, and the
 * account is linked to the provider's (issuer, subject) (DESIGN §10). Every failure redirects to
 * `/login?error=sso` with a log line (never a 500, never the client secret).
 */
export const oidcRoutes: FastifyPluginAsyncZod<OidcRouteOptions> = async (app, options) => {
  const redirectUri = `${options.publicUrl.replace(/\/+$/, '')}/api/auth/oidc/callback`;
  const seal = new PendingSignInSeal(options.secret);
  const cookie = {
    path: new URL(redirectUri).pathname,
    httpOnly: true,
    sameSite: 'lax',
    secure: 'auto',
    maxAge: PENDING_MS / 1000,
  } as const;
  // Discovered on first use and kept; a failed discovery is retried at the next sign-in.
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    discovered ??= oidc
      .discovery(new URL(options.oidc.issuer), options.oidc.clientId, options.oidc.clientSecret)
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  };

  const fail = (request: FastifyRequest, reply: FastifyReply, error: unknown, step: string) => {
    if (isDatabaseUnavailable(error)) throw error; // 503 like every route (DESIGN §16)
    const e = error as {
      name?: string;
      code?: string;
      error?: string;
      message?: string;
      cause?: { code?: string; message?: string };
    };
    // What went wrong, never the request or the error object (it may carry the client secret).
    const cause = e.cause?.message ?? e.cause?.code;
    request.log.warn(
      { step, err: { name: e.name, code: e.code ?? e.error, message: e.message, cause } },
      'sso sign-in failed',
    );
    return reply.redirect(FAILED, 302);
  };

  app.get(
    '/api/auth/oidc/login',
    {
      schema: {
        // Browser redirects, not calls for the typed client; hidden so the document (and
        // runwarden/client) is the same whether or not OIDC is configured where it is generated.
        hide: true,
        tags: ['auth'],
        summary: 'Start single sign-on: redirects to the OpenID provider',
        operationId: 'oidcLogin',
        querystring: z.object({ returnTo: z.string().max(2000).optional() }),
      },
    },
    async (request, reply) => {
      try {
        const config = await configuration();
        const codeVerifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        const returnTo = sameOriginPath(request.query.returnTo);
        reply.setCookie(
          PENDING_COOKIE,
          seal.seal({ state, nonce, codeVerifier, returnTo, at: Date.now() }),
          cookie,
        );
        const url = oidc.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: 'openid email profile',
          code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        return reply.redirect(url.href, 302);
      } catch (error) {
        return fail(request, reply, error, 'login');
      }
    },
  );

  app.get(
    '/api/auth/oidc/callback',
    {
      schema: {
        hide: true,
        tags: ['auth'],
        summary: 'Single sign-on callback: signs the user in and redirects to the app',
        operationId: 'oidcCallback',
        querystring: z.record(z.string(), z.unknown()),
      },
    },
    async (request, reply) => {
      const pending = seal.open(request.cookies[PENDING_COOKIE]);
      // Spent whatever happens next: one sign-in per state.
      reply.clearCookie(PENDING_COOKIE, { path: cookie.path });
      try {
        const age = pending ? Date.now() - pending.at : Number.NaN;
        if (!pending || !(age >= 0 && age <= PENDING_MS))
          throw new RunwardenError('bad_request', 'No sign-in in progress in this browser.');
        const config = await configuration();
        const current = new URL(redirectUri);
        current.search = new URL(request.url, 'http://callback').search;
        const tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims) throw new RunwardenError('bad_request', 'The provider sent no ID token.');
        let claims: Record<string, unknown> = idClaims;
        // The role claim and the email may come from the userinfo endpoint only.
        if (!(options.oidc.roleClaim in claims) || typeof claims.email !== 'string')
          claims = {
            ...(await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)),
            ...claims,
          };
        const email = claims.email;
        // Only an email the provider vouches for: a missing `email_verified` is not a yes.
        if (typeof email !== 'string' || claims.email_verified !== true)
          throw new RunwardenError('bad_request', 'The provider sent no verified email.');
        const grants = parseOidcGrants(claims[options.oidc.roleClaim]);
        const applied = await applyOidcGrants(
          options.db,
          {
            email,
            name: typeof claims.name === 'string' ? claims.name : undefined,
            identity: { issuer: idClaims.iss, subject: idClaims.sub },
          },
          grants,
          { publicUrl: options.publicUrl },
        );
        if (applied.passwordRevoked)
          request.log.warn(
            { userId: applied.userId },
            'sso: a password set through an invite was revoked and its sessions ended',
          );
        if (grants.ignored.length || applied.unknownWorkspaces.length || applied.kept.length)
          request.log.warn(
            {
              userId: applied.userId,
              ignored: grants.ignored,
              unknownWorkspaces: applied.unknownWorkspaces,
              keptLastOwner: applied.kept,
            },
            'sso: some role claim values were not applied',
          );
        await request.session.regenerate();
        request.session.userId = applied.userId;
        await recordAudit(options.db, {
          actor: { userId: applied.userId, kind: 'user' },
          action: 'auth.login',
          details: { method: 'oidc' },
        });
        request.log.info({ userId: applied.userId, method: 'oidc' }, 'login');
        return reply.redirect(sameOriginPath(pending.returnTo), 302);
      } catch (error) {
        return fail(request, reply, error, 'callback');
      }
    },
  );
};
