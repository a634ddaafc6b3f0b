import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { grantExactly, type HostPrincipal } from '../access/host-grants.js';
import { loadUserPrincipal } from '../access/principal.js';
import { createPool } from '../db/pool.js';
import { HOME, sameOriginPath } from '../domain/redirect-target.js';
import { buildApp } from '../http/app.js';
import type { Runwarden } from '../runwarden.js';

/** What `resolvePrincipal` returns for a signed-in person of the host (DESIGN §15). */
export type RunwardenPrincipal = HostPrincipal;

export interface RunwardenFastifyOptions {
  /** The library instance (`createRunwarden`) whose database and catalog the mount serves. */
  runwarden: Runwarden;
  /**
   * Who is calling, from the host's own login (its cookie, its session): the person and exactly
   * the workspaces (role, tenant restriction by slug or null for all) and platform capabilities
   * they hold. `null`: nobody (the API answers 401). Called per API request; what it returns is
   * written into Runwarden's directory (only when it differs) and is authoritative for that request.
   */
  resolvePrincipal: (
    request: FastifyRequest,
  ) => RunwardenPrincipal | null | undefined | Promise<RunwardenPrincipal | null | undefined>;
  /** For the live stream's one LISTEN connection; default: the library instance's database. */
  databaseUrl?: string;
  /**
   * The host's sign-in page: a browser whose host session ended is sent there instead of to a
   * Runwarden login (there is none under the mount). `{from}` in it becomes the page the browser
   * was on (URL-encoded), e.g. `/login?next={from}`; without it, `?from=<page>` is added.
   */
  loginUrl?: string;
  /**
   * The host's sign-out page: the web app's "Log out" takes the browser there (a plain link, a
   * GET). Without it the web app offers no "Log out" (there is no Runwarden session to end).
   */
  logoutUrl?: string;
  /** The built web app (default: the package's own dist/web); false: the API only. */
  webRoot?: string | false;
  /** Default: the host's logger. */
  logger?: Logger;
  /** Extra buildApp options (tests). */
  summaryCacheMs?: number;
}

/**
 * Runwarden inside a host's own Fastify server (DESIGN §15, Bull Board's mount, Oban Web's
 * resolver): `app.register(runwardenFastify, { prefix: '/ops', runwarden: rw, resolvePrincipal })`
 * serves the web app and the API under the prefix, authenticated by the host.
 *
 * The mount is a complete Runwarden app of its own (its error shapes, security headers, schemas
 * and closed-by-default scopes) that the host's router hands each request under the prefix, raw
 * and unread, after the host's own hooks ran: so the resolver sees the host's request with the
 * host's decorations (cookies, session), and nothing of Runwarden leaks into the host's scope.
 * Writes from a browser carry `x-csrf-token` (the web app does it) bound to a signed,
 * SameSite=Strict cookie under the prefix; bearer API tokens keep working for machines.
 */
export async function runwardenFastify(
  scope: FastifyInstance,
  options: RunwardenFastifyOptions,
): Promise<void> {
  const rw = options.runwarden;
  for (const name of ['loginUrl', 'logoutUrl'] as const) assertPageUrl(name, options[name]);
  const prefix = scope.prefix.replace(/\/+$/, '');
  const hostRequests = new WeakMap<IncomingMessage, FastifyRequest>();
  const streamPool = { max: 2, applicationName: 'runwarden-stream' };
  const pool = options.databaseUrl
    ? createPool(options.databaseUrl, streamPool)
    : rw.openPool(streamPool);
  const inner = await buildApp({
    db: rw.db,
    pool,
    logger: options.logger ?? (scope.log as unknown as Logger),
    registry: rw.registry,
    runs: rw.runs,
    options: {
      basePath: prefix,
      ...(options.loginUrl ? { hostLoginUrl: options.loginUrl } : {}),
      ...(options.logoutUrl ? { hostLogoutUrl: options.logoutUrl } : {}),
      // The host signs people in: no Runwarden password login or SSO under the mount, and no
      // reading of RUNWARDEN_OIDC_* from the host's environment.
      signIn: { oidc: undefined, passwordLogin: false, publicUrl: '' },
      ...(options.webRoot !== undefined ? { webRoot: options.webRoot } : {}),
      ...(options.summaryCacheMs !== undefined ? { summaryCacheMs: options.summaryCacheMs } : {}),
      async resolvePrincipal(request) {
        const host = hostRequests.get(request.raw);
        const resolved = host ? await options.resolvePrincipal(host) : null;
        if (!resolved) return undefined;
        return await loadUserPrincipal(rw.db, await grantExactly(rw.db, resolved));
      },
    },
  });
  await inner.ready();
  // Before the host's server stops accepting: the mount's live streams end (or the host's close
  // would wait for them), then its LISTEN connection goes once the server is closed.
  scope.addHook('preClose', async () => {
    await inner.close();
  });
  scope.addHook('onClose', async () => {
    await pool.end();
  });

  // Bodies stay unread for the mount to parse with its own limits and schemas.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const forward = (request: FastifyRequest, reply: FastifyReply) => {
    hostRequests.set(request.raw, request);
    const rest = (request.raw.url ?? '/').slice(prefix.length);
    request.raw.url = rest.startsWith('/') ? rest : `/${rest}`;
    reply.hijack();
    inner.routing(request.raw, reply.raw);
  };
  scope.all('/', forward);
  scope.all('/*', forward);
}

/**
 * The host's sign-in and sign-out pages become links in the web app: a path of the host's own
 * (`/logout`, by the same rule as every redirect target) or an http(s) URL, never `javascript:`,
 * another scheme, or characters a browser drops or turns into a slash (tab, CR, LF, backslash).
 */
function assertPageUrl(name: string, value: string | undefined): void {
  if (value === undefined) return;
  if (
    value.startsWith('/') ? sameOriginPath(value) !== HOME || value === HOME : isPlainHttpUrl(value)
  )
    return;
  throw new Error(
    `runwardenFastify: ${name} must be a path of the host's (e.g. /logout) or an http(s) URL, got ${JSON.stringify(value)}`,
  );
}

function isPlainHttpUrl(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(value)) return false;
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}
