import type { FastifyInstance, RouteOptions } from 'fastify';
import { jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_CATALOG } from '../domain/errors.js';
import { packageVersion } from '../version.js';
import { SESSION_COOKIE, WRITE_METHODS } from './auth.js';

// The OpenAPI document's frame (DESIGN §11): who may call what (security), and the error answers
// every route shares, declared once per scope here instead of in each route file.

/**
 * The error body (DESIGN §11); `code` is one of the error catalog's (src/domain/errors.ts). One
 * component of the document (`Error`), which every error answer refers to.
 */
const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_CATALOG) as [keyof typeof ERROR_CATALOG]),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

const WHY = {
  400: 'The request does not match the schema, or its JSON, cursor or path is not valid',
  401: 'No caller: log in or send a valid API token',
  403: 'Lacking the permission, or a cookie write without its x-csrf-token',
  404: 'Not found, or not visible to the caller (the same answer)',
  409: 'Conflicts with the current state',
  413: 'The body is larger than 1 MiB',
  415: 'The body is not JSON',
  422: "The input or report does not match the operation type's rules",
  429: 'Too many requests; Retry-After says when to try again',
  500: 'A fault on our side, logged with the request id',
  503: 'The database is unreachable (or the run could not be queued); Retry-After says when to retry',
} as const;
export type ErrorStatus = keyof typeof WHY;

/** The error answers `statuses`, each with the error body, for a route's `response` map. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]) {
  const answer = (s: S) => ({
    description: WHY[s],
    content: { 'application/json': { schema: ErrorBody } },
  });
  return Object.fromEntries(statuses.map((s) => [s, answer(s)])) as Record<
    S,
    ReturnType<typeof answer>
  >;
}

/**
 * The security schemes: the session cookie (with `x-csrf-token` on its writes) and API tokens.
 * A write authenticated by the cookie needs both `session` and `csrfToken`.
 */
export const SECURITY_SCHEMES = {
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: 'The session cookie `POST /api/auth/login` sets (HTTP-only; the browser sends it)',
  },
  csrfToken: {
    type: 'apiKey',
    in: 'header',
    name: 'x-csrf-token',
    description: 'The `csrfToken` of login or `GET /api/me`; required on writes with the cookie',
  },
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (`rwt_…`): no CSRF token needed',
  },
} as const;

/**
 * Who may call a scope's routes: `public` (anyone; nobody is looked up), `identified` (anyone, but
 * a session or token is looked up: an invalid token is 401, a cookie write needs its CSRF token),
 * `closed` (a session or an API token, or 401).
 */
export type Access = 'public' | 'identified' | 'closed';

type Requirement = Record<string, string[]>;

function securityOf(access: Access, write: boolean): Requirement[] {
  const session: Requirement = write ? { session: [], csrfToken: [] } : { session: [] };
  if (access === 'public') return [];
  if (access === 'identified') return [{}, session, { bearer: [] }];
  return [session, { bearer: [] }];
}

/**
 * Declares, for every route registered after it in `scope`, its security (unless the route says)
 * and the error answers the scope and the framework give (the route's own `response` map adds
 * its 404s, 409s… and wins on a status both declare).
 * `database`: whether the scope reads PostgreSQL on every request (session or token lookup), and
 * so answers 503 while it is unreachable (DESIGN §16).
 */
export function documentScope(
  scope: FastifyInstance,
  access: Access,
  { database = true }: { database?: boolean } = {},
): void {
  scope.addHook('onRoute', (route: RouteOptions) => {
    const schema = route.schema;
    if (!schema || schema.hide) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const write = methods.some((m) => WRITE_METHODS.has(m));
    const statuses = new Set<ErrorStatus>([500]);
    if (schema.params || schema.querystring || schema.headers || schema.body) statuses.add(400);
    if (write) for (const s of [400, 413, 415] as const) statuses.add(s);
    if (access !== 'public') statuses.add(401);
    if (access !== 'public' && write) statuses.add(403); // the CSRF check
    if (access !== 'public') statuses.add(429); // each API token's request limit
    if (database) statuses.add(503);
    route.schema = {
      ...schema,
      security: schema.security ?? securityOf(access, write),
      response: { ...errorResponses(...statuses), ...(schema.response as object | undefined) },
    };
  });
}

/** The tags the routes use, in the order Swagger UI lists them. */
const TAGS = [
  ['auth', 'Logging in and out, who the caller is, passwords'],
  ['operations', "Starting a workspace's runs, listing and counting them"],
  ['runs', 'One run: its detail, and cancelling it'],
  ['external runs', 'Runs executed elsewhere, reporting with an API token'],
  ['stream', 'Server-Sent Events of run changes the caller may see'],
  ['notifications', "The caller's in-app notifications"],
  ['tokens', "A workspace's API tokens"],
  ['directory', 'Workspaces, tenants and members'],
  ['flow', 'Flow control: pausing and resuming types and tenants'],
  ['insights', 'Charts of runs over time, from per-minute rollups'],
  ['alerts', 'Alert rules and their deliveries to webhooks, Slack and email'],
  [
    'system',
    'Health, and the system plane for platform staff: stuck and failed runs, triage, flow limits, audit',
  ],
] as const;

/** The `openapi` options of @fastify/swagger: the document's frame around the routes. */
export function openApiFrame(basePath: string) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Runwarden API',
      version: packageVersion(),
      description:
        'One honest record for every long-running operation. Errors are `{error:{code,message,details?}}`; ' +
        'cookie-authenticated writes send `x-csrf-token`, API tokens go in `Authorization: Bearer`.',
      license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
    },
    // Relative: the document is served by the API it describes, under its mount path if any.
    servers: [{ url: basePath || '/' }],
    tags: TAGS.map(([name, description]) => ({ name, description })),
    components: { securitySchemes: SECURITY_SCHEMES },
  };
}

/**
 * The document's named schemas (the `Error` component): the zod provider adds each one twice, as
 * request input and as response output; the ones no route refers to are left out.
 */
export const transformObject: typeof jsonSchemaTransformObject = (input) => {
  const document = jsonSchemaTransformObject(input);
  const components = (document as { components?: { schemas?: Record<string, unknown> } })
    .components;
  const schemas = components?.schemas ?? {};
  const text = JSON.stringify({ ...document, components: { ...components, schemas: {} } });
  for (const name of Object.keys(schemas))
    if (!text.includes(`"#/components/schemas/${name}"`)) delete schemas[name];
  return document;
};
