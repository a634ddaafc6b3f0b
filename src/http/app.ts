import { createHash, randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { Logger } from 'pino';
import { BadTokenThrottle } from '../access/bad-token-throttle.js';
import { createDirectory } from '../access/directory.js';
import { loadConfig, type OidcConfig } from '../config.js';
import type { Db } from '../db/pool.js';
import { RunwardenError } from '../domain/errors.js';
import { DEFAULT_RUN_LOG_CAPS, type RunLogCaps } from '../domain/run-log-lines.js';
import type { OperationRegistry } from '../execution/registry.js';
import { TerminalCountsCache } from '../lifecycle/summary.js';
import type { RunService } from '../runs/run-service.js';
import { authPlugin, type ExternalCaller, identifyCaller, requireCaller } from './auth.js';
import type { ApiContext } from './context.js';
import { CursorCodec } from './cursor.js';
import { handleError } from './errors.js';
import { registerHeaderGuard } from './header-guard.js';
import { findUnstorable, registerJsonBodies, unstorableError } from './json-body.js';
import { registerMetrics } from './metrics.js';
import { documentScope, openApiFrame, transformObject } from './openapi.js';
import { registerAccessLog, requestLogger } from './request-log.js';
import { alertRuleRoutes } from './routes/alert-rules.js';
import { authRoutes, logoutRoutes, meRoutes } from './routes/auth.js';
import { bulkActionRoutes } from './routes/bulk-actions.js';
import { chartRoutes } from './routes/charts.js';
import { directoryRoutes, passwordRoutes } from './routes/directory.js';
import { fleetRoutes } from './routes/fleet.js';
import { healthRoutes } from './routes/health.js';
import { invitationRoutes } from './routes/invitations.js';
import { logRoutes } from './routes/logs.js';
import { notificationRoutes } from './routes/notifications.js';
import { oidcRoutes } from './routes/oidc.js';
import { operationRoutes } from './routes/operations.js';
import { pauseRoutes } from './routes/pauses.js';
import { rerunRoutes } from './routes/rerun.js';
import { runRoutes } from './routes/runs.js';
import { streamRoutes } from './routes/stream.js';
import { systemRoutes } from './routes/system.js';
import { systemFlowRoutes } from './routes/system-flow.js';
import { systemWorkerRoutes } from './routes/system-workers.js';
import { tokenRoutes } from './routes/tokens.js';
import { loadHttpSecret } from './secret.js';
import { registerSecurityHeaders } from './security-headers.js';
import { StreamHub } from './stream-hub.js';
import { findWebRoot, registerWeb } from './web.js';

export interface AppDeps {
  db: Db;
  /** For the one LISTEN connection of the live stream. */
  pool: pg.Pool;
  logger: Logger;
  registry: OperationRegistry;
  runs: RunService;
  now?: () => Date;
  /** Defaults to the database's shared secret (see `loadHttpSecret`). */
  secret?: string;
  options?: Partial<AppOptions>;
}

export interface AppOptions {
  /** Login attempts per client address per minute, shared by every API process. */
  loginPerMinute: number;
  /** Failed logins per account per 15 minutes, shared by every API process. */
  loginFailuresPerAccount: number;
  /** Mean interval of each process's pass deleting expired sessions and throttle windows. */
  accessPruneMs: number;
  tokenRequestsPerMinute: number;
  /** Bearer values naming no live token, per client address a minute, before 429 (DESIGN §10). */
  badTokensPerMinute: number;
  streamHeartbeatMs: number;
  /** How often the live stream's LISTEN connection must answer a probe (DESIGN §16). */
  streamProbeMs: number;
  /** Listed on the login page; empty unless the server runs the demo. */
  demoLogins: Array<{ email: string; description: string }>;
  trustProxy: boolean;
  /** How long dashboard summaries may reuse their 24 h / 7 day terminal counts (0: never). */
  summaryCacheMs: number;
  /** The built web app to serve; false serves none (API only). Default: dist/web if built. */
  webRoot: string | false | undefined;
  /** Where the app is mounted in a host's server (`/ops`); '' at the root (DESIGN §15). */
  basePath: string;
  /** Embedded: where a browser without a host session signs in (the host's own page). */
  hostLoginUrl: string | undefined;
  /** Embedded: where "Log out" sends the browser (the host's own page); none: no "Log out". */
  hostLogoutUrl: string | undefined;
  /** Embedded: the host resolves every caller (bearer tokens still work); no Runwarden login. */
  resolvePrincipal: ExternalCaller | undefined;
  /** Single sign-on and the password switch (DESIGN §15); default: from the environment. */
  signIn: SignInOptions | undefined;
  /** RUNWARDEN_METRICS_TOKEN: `GET /metrics` then needs `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** How often the access log's summary line is written (info). */
  accessLogSummaryMs: number;
  /** What each run's log keeps, for the lines external runs post (RUNWARDEN_RUN_LOG_MAX_*). */
  runLogCaps: RunLogCaps;
}

export interface SignInOptions {
  oidc: OidcConfig | undefined;
  passwordLogin: boolean;
  publicUrl: string;
}

const DEFAULTS: AppOptions = {
  loginPerMinute: 10,
  loginFailuresPerAccount: 10,
  accessPruneMs: 10 * 60_000,
  tokenRequestsPerMinute: 1200,
  badTokensPerMinute: 20,
  streamHeartbeatMs: 15_000,
  streamProbeMs: 5_000,
  demoLogins: [],
  trustProxy: false,
  summaryCacheMs: 5_000,
  webRoot: undefined,
  basePath: '',
  resolvePrincipal: undefined,
  hostLoginUrl: undefined,
  hostLogoutUrl: undefined,
  signIn: undefined,
  metricsToken: undefined,
  accessLogSummaryMs: 60_000,
  runLogCaps: DEFAULT_RUN_LOG_CAPS,
};

/**
 * The HTTP API (DESIGN §11): zod schemas on every route, OpenAPI at /api/openapi.json, Swagger UI
 * at /api/docs, errors always `{error:{code,message,details?}}`, bodies up to 1 MiB.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const options = { ...DEFAULTS, ...deps.options };
  const signIn = options.signIn ?? loadConfig();
  const secret = deps.secret ?? (await loadHttpSecret(deps.db));
  const app = Fastify({
    loggerInstance: requestLogger(deps.logger),
    // Per-request lines at debug and a summary a minute at info (registerAccessLog).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    trustProxy: options.trustProxy,
    // A request id unique across API processes, echoed as x-request-id and on every log line.
    genReqId: () => randomUUID(),
    // Router errors (a bad percent-escape, an over-long path parameter) get the error shape too.
    frameworkErrors: handleError,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  // A JSON API: any other body type is 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  registerJsonBodies(app);
  app.addHook('preValidation', async (request) => {
    const where = findUnstorable({ query: request.query, params: request.params });
    if (where !== undefined) throw unstorableError(where);
    // A route that takes no body (cancel, logout, …) refuses one with fields in it, as a route
    // with a schema refuses unknown fields: nothing sent is silently ignored.
    if (!request.routeOptions.schema?.body && carriesFields(request.body))
      throw new RunwardenError('validation_failed', 'This request takes no body.', {
        details: [{ path: '', message: 'no body expected' }],
      });
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerHeaderGuard(app);
  // upgrade-insecure-requests and HSTS only over TLS (behind a proxy: X-Forwarded-Proto with
  // RUNWARDEN_TRUST_PROXY); over plain HTTP they would blank the web app at any non-localhost address.
  await registerSecurityHeaders(app, {
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    strictTransportSecurity: false,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.protocol !== 'https') return;
    const csp = reply.raw.getHeader('content-security-policy');
    if (typeof csp === 'string')
      reply.raw.setHeader('content-security-policy', `${csp};upgrade-insecure-requests`);
    reply.raw.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
  await app.register(rateLimit, { global: false });
  const tokenLimit = app.rateLimit({
    max: options.tokenRequestsPerMinute,
    timeWindow: '1 minute',
    keyGenerator: (request) =>
      createHash('sha256')
        .update(request.headers.authorization ?? '')
        .digest('hex'),
  });
  app.addHook('onRequest', async (request, reply) => {
    if (/^Bearer /i.test(request.headers.authorization ?? ''))
      await tokenLimit.call(app, request, reply);
  });
  // Sessions (and their CSRF tokens) are registered in each scope that has a use for them, so a
  // scope without them never looks a session cookie up: health answers as itself in an outage.
  const sessions = {
    db: deps.db,
    secret,
    ...(options.resolvePrincipal ? { csrfCookiePath: options.basePath || '/' } : {}),
  };
  const callers = {
    db: deps.db,
    external: options.resolvePrincipal,
    badTokens: new BadTokenThrottle(deps.db, {
      perMinute: options.badTokensPerMinute,
      now: deps.now,
    }),
  };
  // The OpenAPI document describes the routes of every scope, so it is collected at the root.
  await app.register(swagger, {
    openapi: openApiFrame(options.basePath),
    transform: jsonSchemaTransform,
    transformObject,
  });

  const ctx: ApiContext = {
    db: deps.db,
    runs: deps.runs,
    registry: deps.registry,
    cursors: new CursorCodec(secret),
    logger: deps.logger,
    now: deps.now ?? (() => new Date()),
    directory: createDirectory({
      db: deps.db,
      publicUrl: options.resolvePrincipal || !signIn.passwordLogin ? null : signIn.publicUrl,
    }),
    terminalCache:
      options.summaryCacheMs > 0 ? new TerminalCountsCache(options.summaryCacheMs) : undefined,
  };
  const hub = new StreamHub(
    { pool: deps.pool, db: deps.db, registry: deps.registry, logger: deps.logger },
    { probeMs: options.streamProbeMs },
  );
  app.addHook('preClose', async () => hub.close());
  // Public, at the root: `GET /metrics` comes with the latency hook that must see every scope.
  registerMetrics(app, ctx, { token: options.metricsToken });
  registerAccessLog(app, deps.logger, options.accessLogSummaryMs);

  // Routes are closed by default (DESIGN §10): each plugin below lives in one of four scopes, and
  // only the first three can be reached without a caller.
  // Public and sessionless: health, the API document and Swagger UI look no session cookie up, so
  // they answer as themselves while the database is unreachable.
  await app.register(async (bare) => {
    documentScope(bare, 'public', { database: false });
    await bare.register(healthRoutes, { db: deps.db });
    await bare.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
    bare.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });
  // Public: no caller is looked up, but logins start sessions (and pages read the cookie).
  await app.register(async (open) => {
    await open.register(authPlugin, sessions);
    documentScope(open, 'public');
    await open.register(authRoutes, {
      ...ctx,
      loginPerMinute: options.loginPerMinute,
      loginFailuresPerAccount: options.loginFailuresPerAccount,
      accessPruneMs: options.accessPruneMs,
      demoLogins: options.demoLogins,
      sso: signIn.oidc !== undefined,
      passwordLogin: signIn.passwordLogin,
    });
    if (signIn.oidc)
      await open.register(oidcRoutes, {
        db: deps.db,
        oidc: signIn.oidc,
        publicUrl: signIn.publicUrl,
        secret,
      });
    // The web app's assets and pages (deep links too), and the JSON 404 for everything unknown.
    await registerWeb(
      open,
      options.webRoot === false ? undefined : (options.webRoot ?? findWebRoot()),
      options.basePath,
      options.resolvePrincipal
        ? { loginUrl: options.hostLoginUrl, logoutUrl: options.hostLogoutUrl }
        : undefined,
    );
  });
  // Public, but the caller is identified: logout ends a session (a cookie write, so CSRF-checked).
  await app.register(async (identified) => {
    await identified.register(authPlugin, { ...sessions, callers: true });
    documentScope(identified, 'identified');
    await identified.register(identifyCaller, callers);
    await identified.register(logoutRoutes);
    await identified.register(passwordRoutes, { ...ctx, loginPerMinute: options.loginPerMinute });
    await identified.register(invitationRoutes, {
      ...ctx,
      loginPerMinute: options.loginPerMinute,
    });
  });
  // Authenticated: every other route. Anonymous callers get 401 before any of it runs.
  await app.register(async (closed) => {
    await closed.register(authPlugin, { ...sessions, callers: true });
    documentScope(closed, 'closed');
    await closed.register(requireCaller, callers);
    await closed.register(meRoutes);
    await closed.register(tokenRoutes, {
      ...ctx,
      hostResolved: options.resolvePrincipal !== undefined,
    });
    await closed.register(directoryRoutes, ctx);
    await closed.register(operationRoutes, ctx);
    await closed.register(fleetRoutes, ctx);
    await closed.register(runRoutes, ctx);
    await closed.register(rerunRoutes, ctx);
    await closed.register(bulkActionRoutes, ctx);
    await closed.register(logRoutes, { ...ctx, runLogCaps: options.runLogCaps });
    await closed.register(notificationRoutes, ctx);
    await closed.register(pauseRoutes, ctx);
    await closed.register(chartRoutes, ctx);
    await closed.register(alertRuleRoutes, { ...ctx, publicUrl: signIn.publicUrl });
    await closed.register(systemRoutes, ctx);
    await closed.register(systemFlowRoutes, ctx);
    await closed.register(systemWorkerRoutes, ctx);
    await closed.register(streamRoutes, { ...ctx, hub, heartbeatMs: options.streamHeartbeatMs });
  });
  return app;
}

/** A body other than nothing, `null` or `{}`. */
function carriesFields(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  return typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length > 0;
}
