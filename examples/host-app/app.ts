/**
 * A small "tenant platform" that embeds Runwarden (DESIGN §15): its own login, its own tenants,
 * its own routes that start runs, a worker, and Runwarden's web app and API mounted at /ops.
 *
 * In your platform the imports read `from 'runwarden'` and `from 'runwarden/fastify'`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import cookie from '@fastify/cookie';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { runwardenFastify } from '../../src/fastify/index.js';
import { createRunwarden, defineOperation, type Runwarden } from '../../src/index.js';

/** The host's own people: a hard-coded list standing in for its user table. */
export const HOST_USERS = {
  ann: { email: 'ann@northwind.test', name: 'Ann Admin', role: 'owner', ops: true },
  oscar: { email: 'oscar@northwind.test', name: 'Oscar Operator', role: 'operator', ops: true },
  cora: { email: 'cora@northwind.test', name: 'Cora Customer', role: 'readonly', ops: false },
} as const;
type HostUser = keyof typeof HOST_USERS;

/** The host's roles that may start operations: operator or higher, as in Runwarden. */
const STARTERS: ReadonlySet<string> = new Set(['owner', 'manager', 'operator']);
const mayStart = (user: HostUser) => {
  const { ops, role } = HOST_USERS[user];
  return ops && STARTERS.has(role);
};

/** The host's tenants, synced into Runwarden's directory at boot. */
export const WORKSPACE = { slug: 'northwind', name: 'Northwind Platform' };
export const TENANTS = [
  { slug: 'northwind-eu', name: 'Northwind EU' },
  { slug: 'northwind-us', name: 'Northwind US' },
];

/** The host's one long-running operation: a tenant backup that reports progress. */
export const tenantBackup = defineOperation({
  type: 'host.backup',
  label: 'Tenant backup',
  scope: 'tenant',
  input: z.object({ reason: z.string().max(200) }),
  identity: () => ({}),
  lifecycle: {
    heartbeatSeconds: 10,
    timeoutSeconds: 600,
    runningStaleAfterSeconds: 60,
    queuedStaleAfterSeconds: 300,
  },
  async run(ctx) {
    const steps = 5;
    for (let step = 1; step <= steps; step++) {
      await delay(200);
      await ctx.progress({ processed: step, total: steps });
    }
    return { outcome: 'succeeded', counts: { tables: steps } };
  },
});

const COOKIE = 'host_user';

export interface HostApp {
  app: FastifyInstance;
  rw: Runwarden;
  url: string;
  close(): Promise<void>;
}

export async function startHostApp(options: {
  databaseUrl: string;
  port?: number;
  host?: string;
  logger?: Logger;
  cookieSecret?: string;
}): Promise<HostApp> {
  const rw = createRunwarden({
    databaseUrl: options.databaseUrl,
    operations: [tenantBackup],
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await rw.migrate();
  // The host owns the directory: its workspace, tenants and operations staff, synced on every
  // boot (idempotent, audited). Whoever signs in later is brought up to date per request by
  // resolvePrincipal below.
  await rw.directory.sync({
    workspaces: [
      {
        ...WORKSPACE,
        tenants: TENANTS.map((t) => ({ ...t, status: 'active' })),
        members: Object.values(HOST_USERS)
          .filter((u) => u.ops)
          .map((u) => ({ email: u.email, name: u.name, role: u.role, tenants: null })),
      },
    ],
  });
  await rw.worker({ concurrency: 2 });

  const app = Fastify({ loggerInstance: options.logger as FastifyBaseLogger | undefined });
  await app.register(cookie, {
    secret: options.cookieSecret ?? 'host-app-cookie-secret-change-me',
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  const signedIn = (request: FastifyRequest): HostUser | undefined => {
    const raw = request.cookies[COOKIE];
    const name = raw ? request.unsignCookie(raw) : undefined;
    return name?.valid && name.value && name.value in HOST_USERS
      ? (name.value as HostUser)
      : undefined;
  };

  app.get('/login', async (request, reply) =>
    reply.type('text/html').send(
      page(
        'Sign in to Northwind',
        `<form method="post" action="/login">
          <input type="hidden" name="next" value="${escapeHtml(localPath((request.query as { next?: string }).next))}">
          <label>User <select name="user">${Object.entries(HOST_USERS)
            .map(([key, u]) => `<option value="${key}">${u.name}</option>`)
            .join('')}</select></label>
          <button type="submit">Sign in</button>
        </form>`,
      ),
    ),
  );
  app.post('/login', async (request, reply) => {
    const { user, next } = (request.body ?? {}) as { user?: string; next?: string };
    if (!user || !(user in HOST_USERS)) return reply.code(401).send('Unknown user');
    reply.setCookie(COOKIE, user, { path: '/', httpOnly: true, sameSite: 'lax', signed: true });
    return reply.redirect(localPath(next));
  });
  // Runwarden's "Log out" is a link here (logoutUrl): a page whose button signs out, so another
  // site cannot sign people out with a link of its own.
  app.get('/logout', async (_request, reply) =>
    reply
      .type('text/html')
      .send(
        page(
          'Sign out of Northwind',
          '<form method="post" action="/logout"><button type="submit">Sign out</button></form>',
        ),
      ),
  );
  app.post('/logout', async (_request, reply) =>
    reply.clearCookie(COOKIE, { path: '/' }).redirect('/login'),
  );

  app.get('/', async (request, reply) => {
    const who = signedIn(request);
    if (!who) return reply.redirect('/login');
    const user = HOST_USERS[who];
    return reply.type('text/html').send(
      page(
        `Northwind — ${user.name}`,
        `<p>Signed in as ${user.name}. ${user.ops ? '<a href="/ops/">Operations</a>' : ''}</p>
        <ul>${TENANTS.map(
          (t) =>
            `<li>${t.name}${
              mayStart(who)
                ? `<form method="post" action="/tenants/${t.slug}/backup" style="display:inline">
              <button type="submit">Back up ${t.name}</button></form>`
                : ''
            }</li>`,
        ).join('')}</ul>
        <form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
      ),
    );
  });

  // The host's own route starting a Runwarden run: the host checks its own rights first (only
  // the operators and owners it grants may start one), and the run is theirs.
  app.post('/tenants/:slug/backup', async (request, reply) => {
    const who = signedIn(request);
    if (!who) return reply.code(401).send('Sign in first');
    if (!mayStart(who)) return reply.code(403).send('Only operators and owners start backups');
    const { slug } = request.params as { slug: string };
    if (!TENANTS.some((t) => t.slug === slug)) return reply.code(404).send('No such tenant');
    const { run } = await rw.start({
      type: 'host.backup',
      workspace: WORKSPACE.slug,
      tenant: slug,
      input: { reason: 'requested from the host' },
      initiator: HOST_USERS[who].email,
    });
    return reply.redirect(`/ops/admin/operations/${run.id}`);
  });

  // Runwarden under /ops, authenticated by the host's cookie: who the host says is signed in,
  // with exactly the rights the host gives them here. The wrapping scope's hook is the host's own:
  // a page under /ops opened without signing in goes to the host's login and back.
  await app.register(async (ops) => {
    ops.addHook('onRequest', async (request, reply) => {
      const page = request.method === 'GET' && !/^\/ops\/(api|assets)\//.test(request.url);
      if (page && !signedIn(request))
        return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`);
    });
    await ops.register(runwardenFastify, {
      prefix: '/ops',
      runwarden: rw,
      // Where a browser whose host session ended mid-visit signs in again, and comes back.
      loginUrl: '/login?next={from}',
      // Where Runwarden's "Log out" goes: the host's own sign-out.
      logoutUrl: '/logout',
      resolvePrincipal(request) {
        const who = signedIn(request);
        if (!who) return null;
        const user = HOST_USERS[who];
        return {
          email: user.email,
          name: user.name,
          workspaces: user.ops ? [{ slug: WORKSPACE.slug, role: user.role, tenants: null }] : [],
          platform: [],
        };
      },
    });
  });

  const url = await app.listen({ port: options.port ?? 4000, host: options.host ?? '127.0.0.1' });
  return {
    app,
    rw,
    url,
    async close() {
      await app.close();
      await rw.close(); // stops the worker too
    },
  };
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1>${body}</body></html>`;
}

/**
 * A path on this site (`/ops/…`), never another origin: the login's `next` is user input. Browsers
 * read `\` as `/` and drop tabs and newlines, so `/\evil.test` or `/\t/evil.test` would leave the
 * site; an encoded slash or backslash may be decoded later by someone else. Any of these, or a
 * `//` anywhere, gives `/` instead.
 */
export function localPath(next: string | undefined): string {
  if (!next?.startsWith('/') || next.includes('//')) return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\\\u0000-\u001f\u007f]|%(2f|5c|0[0-9a-f]|1[0-9a-f]|7f)/i.test(next)) return '/';
  return next;
}

function escapeHtml(text: string): string {
  return text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}
