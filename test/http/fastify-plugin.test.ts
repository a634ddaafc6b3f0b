import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { type RunwardenPrincipal, runwardenFastify } from '../../src/fastify/index.js';
import { findWebRoot } from '../../src/http/web.js';
import { createRunwarden, type Runwarden } from '../../src/runwarden.js';
import { freshDatabase, settlesWithin } from '../support/db.js';
import { quietLogger } from '../support/worker.js';

const sync = defineOperation({
  type: 'host.sync',
  label: 'Host sync',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (input) => input,
  lifecycle: {
    heartbeatSeconds: 300,
    timeoutSeconds: 1800,
    runningStaleAfterSeconds: 3600,
    queuedStaleAfterSeconds: 1800,
  },
  async run() {
    return { outcome: 'succeeded' };
  },
});

/** The host's own idea of who is signed in: header `x-host-user` names one of these. */
const people = new Map<string, RunwardenPrincipal | null>();

let rw: Runwarden;
let host: FastifyInstance;
let base: string;
const runs: Record<string, string> = {};

beforeAll(async () => {
  const t = await freshDatabase();
  rw = createRunwarden({
    databaseUrl: t.url,
    operations: [sync as OperationDefinition],
    logger: quietLogger,
  });
  await rw.migrate();
  for (const ws of ['acme', 'globex']) {
    await rw.directory.upsertWorkspace({ slug: ws, name: ws.toUpperCase() });
    await rw.directory.upsertTenant({ workspace: ws, slug: `${ws}-prod`, name: 'Production' });
    await rw.directory.upsertTenant({ workspace: ws, slug: `${ws}-dev`, name: 'Development' });
    const { run } = await rw.start({
      type: 'host.sync',
      workspace: ws,
      tenant: `${ws}-prod`,
      input: { tag: ws },
    });
    runs[ws] = run.id;
  }
  host = Fastify();
  host.get('/host/ping', async () => ({ pong: true }));
  host.post('/host/echo', async (request) => ({ body: request.body }));
  await host.register(runwardenFastify, {
    prefix: '/ops',
    runwarden: rw,
    databaseUrl: t.url,
    logger: quietLogger,
    summaryCacheMs: 0,
    resolvePrincipal: (request) => people.get(String(request.headers['x-host-user'])) ?? null,
  });
  base = await host.listen({ port: 0, host: '127.0.0.1' });
});

let closed = false;
afterAll(async () => {
  if (!closed) await host?.close();
  await rw?.close();
});

function as(user: string | undefined, init: RequestInit = {}) {
  return {
    ...init,
    headers: { ...(user ? { 'x-host-user': user } : {}), ...(init.headers as object) },
  };
}

async function me(user: string) {
  const res = await fetch(`${base}/ops/api/me`, as(user));
  expect(res.status).toBe(200);
  return (await res.json()) as {
    csrfToken: string;
    workspaces: Array<{ slug: string; role: string; tenants: Array<{ slug: string }> }>;
    platform: { capabilities: string[] };
  };
}

async function grants(email: string) {
  return await rw.db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
    .select(['workspaces.slug', 'memberships.role', 'memberships.tenant_ids'])
    .where('users.email', '=', email)
    .orderBy('workspaces.slug')
    .execute();
}

describe('runwarden/fastify under /ops', () => {
  it('answers the API for the principal the host resolves, with no Runwarden login', async () => {
    people.set('alice', {
      email: 'Alice@Acme.test',
      name: 'Alice',
      workspaces: [{ slug: 'acme', role: 'operator', tenants: null }],
      platform: [],
    });
    const body = await me('alice');
    expect(body.workspaces.map((w) => [w.slug, w.role])).toEqual([['acme', 'operator']]);
    expect(body.workspaces[0]?.tenants.map((t) => t.slug)).toEqual(['acme-dev', 'acme-prod']);
    const list = await fetch(`${base}/ops/api/workspaces/acme/operations`, as('alice'));
    expect(list.status).toBe(200);
    const items = ((await list.json()) as { items: Array<{ id: string }> }).items;
    expect(items.map((r) => r.id)).toEqual([runs.acme]);
    const detail = await fetch(`${base}/ops/api/operations/${runs.acme}`, as('alice'));
    expect(detail.status).toBe(200);
  });

  it('answers 401 when the resolver returns null, and for anonymous requests', async () => {
    people.set('nobody', null);
    for (const user of ['nobody', undefined]) {
      const res = await fetch(`${base}/ops/api/me`, as(user));
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'unauthenticated',
      );
      const list = await fetch(`${base}/ops/api/workspaces/acme/operations`, as(user));
      expect(list.status).toBe(401);
    }
  });

  it("denies as not found: a run or workspace the principal doesn't have is 404", async () => {
    const run = await fetch(`${base}/ops/api/operations/${runs.globex}`, as('alice'));
    expect(run.status).toBe(404);
    const missing = await fetch(
      `${base}/ops/api/operations/00000000-0000-7000-8000-000000000000`,
      as('alice'),
    );
    expect(missing.status).toBe(404);
    expect(await run.json()).toEqual(await missing.json());
    const ws = await fetch(`${base}/ops/api/workspaces/globex/operations`, as('alice'));
    expect(ws.status).toBe(404);
  });

  it("upserts the resolver's grants into the directory and removes the ones it drops", async () => {
    expect(await grants('alice@acme.test')).toEqual([
      { slug: 'acme', role: 'operator', tenant_ids: null },
    ]);
    people.set('alice', {
      email: 'alice@acme.test',
      name: 'Alice A.',
      workspaces: [
        { slug: 'globex', role: 'readonly', tenants: ['globex-prod'] },
        { slug: 'initech', role: 'owner', tenants: null }, // unknown here: never granted
      ],
      platform: ['system.ops.view'],
    });
    const body = await me('alice');
    expect(body.workspaces.map((w) => [w.slug, w.role])).toEqual([['globex', 'readonly']]);
    expect(body.workspaces[0]?.tenants.map((t) => t.slug)).toEqual(['globex-prod']);
    expect(body.platform.capabilities).toEqual(['system.ops.view']);
    const prod = await rw.db
      .selectFrom('tenants')
      .select('id')
      .where('slug', '=', 'globex-prod')
      .executeTakeFirstOrThrow();
    expect(await grants('alice@acme.test')).toEqual([
      { slug: 'globex', role: 'readonly', tenant_ids: [prod.id] },
    ]);
    const user = await rw.db
      .selectFrom('users')
      .select(['name', 'platform_capabilities'])
      .where('email', '=', 'alice@acme.test')
      .executeTakeFirstOrThrow();
    expect(user).toEqual({ name: 'Alice A.', platform_capabilities: ['system.ops.view'] });
    // Through the directory: audited like every directory change.
    const audit = await rw.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', 'like', 'member.%')
      .orderBy('action')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'member.created',
      'member.created',
      'member.removed',
    ]);
    // The old workspace is gone at once; the new one answers.
    expect((await fetch(`${base}/ops/api/operations/${runs.acme}`, as('alice'))).status).toBe(404);
    expect((await fetch(`${base}/ops/api/operations/${runs.globex}`, as('alice'))).status).toBe(
      200,
    );

    // Nobody signs in to Runwarden itself: no set-password link for people of the host.
    const invites = await rw.db.selectFrom('invites').select('user_id').execute();
    expect(invites).toEqual([]);
    // Unchanged grants write nothing.
    const before = await rw.db
      .selectFrom('audit_log')
      .select((e) => e.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    await me('alice');
    const after = await rw.db
      .selectFrom('audit_log')
      .select((e) => e.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);

    people.set('alice', {
      email: 'alice@acme.test',
      name: 'Alice A.',
      workspaces: [],
      platform: [],
    });
    expect((await me('alice')).workspaces).toEqual([]);
    expect(await grants('alice@acme.test')).toEqual([]);
  });

  it('checks CSRF on writes from the browser: x-csrf-token bound to its cookie', async () => {
    people.set('olga', {
      email: 'olga@acme.test',
      name: 'Olga',
      workspaces: [{ slug: 'acme', role: 'owner', tenants: null }],
      platform: [],
    });
    const meRes = await fetch(`${base}/ops/api/me`, as('olga'));
    const { csrfToken } = (await meRes.json()) as { csrfToken: string };
    const cookie = meRes.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/runwarden_csrf=.*Path=\/ops.*HttpOnly.*SameSite=Strict/i);
    const url = `${base}/ops/api/operations/${runs.acme}/cancel`;
    const bare = await fetch(url, as('olga', { method: 'POST' }));
    expect(bare.status).toBe(403);
    const done = await fetch(
      url,
      as('olga', {
        method: 'POST',
        headers: { 'x-csrf-token': csrfToken, cookie: cookie.split(';')[0] as string },
      }),
    );
    expect(done.status).toBe(200);
    expect(((await done.json()) as { effect: string }).effect).toBe('cancelled');
  });

  it('adds a member without a set-password link: under the host, people sign in through it', async () => {
    people.set('ophelia', {
      email: 'ophelia@acme.test',
      name: 'Ophelia',
      workspaces: [{ slug: 'acme', role: 'owner', tenants: null }],
      platform: [],
    });
    const meRes = await fetch(`${base}/ops/api/me`, as('ophelia'));
    const { csrfToken } = (await meRes.json()) as { csrfToken: string };
    const cookie = (meRes.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const added = await fetch(
      `${base}/ops/api/workspaces/acme/members/${encodeURIComponent('newcomer@acme.test')}`,
      as('ophelia', {
        method: 'PUT',
        headers: { 'x-csrf-token': csrfToken, cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'readonly', tenantIds: null }),
      }),
    );
    expect(added.status).toBe(201);
    const body = (await added.json()) as { member: { email: string }; invite?: unknown };
    expect(body.member.email).toBe('newcomer@acme.test');
    expect(body.invite).toBeUndefined();
    const invites = await rw.db
      .selectFrom('invites')
      .innerJoin('users', 'users.id', 'invites.user_id')
      .select('invites.user_id')
      .where('users.email', '=', 'newcomer@acme.test')
      .execute();
    expect(invites).toEqual([]);
  });

  it('offers no Runwarden login under the host: the host signs people in', async () => {
    const login = await fetch(`${base}/ops/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@acme.test', password: 'whatever-it-is' }),
    });
    expect(login.status).toBeGreaterThanOrEqual(400);
    expect(login.status).toBeLessThan(500);
    expect(login.headers.get('set-cookie')).toBeNull();
    expect((await fetch(`${base}/ops/api/auth/oidc/login`)).status).toBe(404);
  });

  it('refuses a sign-in or sign-out page a link could not safely point to', async () => {
    for (const [name, value] of [
      ['logoutUrl', 'javascript:alert(1)'],
      ['logoutUrl', '//evil.example/logout'],
      ['logoutUrl', '/\\evil.example/logout'],
      ['logoutUrl', '/\t/evil.example/logout'],
      ['logoutUrl', '/\r\n/evil.example'],
      ['loginUrl', 'https://host.example\t/login'],
      ['loginUrl', 'https:\\\\evil.example/login'],
      ['loginUrl', 'data:text/html,hi'],
    ] as const) {
      const other = Fastify();
      await expect(
        other.register(runwardenFastify, {
          prefix: '/ops',
          runwarden: rw,
          logger: quietLogger,
          [name]: value,
          resolvePrincipal: () => null,
        }),
      ).rejects.toThrow(new RegExp(`${name} must be a path of the host's`));
      await other.close();
    }
  });

  it('leaves the host alone: its routes and body parsing outside the prefix', async () => {
    expect(await (await fetch(`${base}/host/ping`)).json()).toEqual({ pong: true });
    const echo = await fetch(`${base}/host/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await echo.json()).toEqual({ body: { a: 1 } });
    // Runwarden's JSON 404 for unknown API paths under the prefix.
    const unknown = await fetch(`${base}/ops/api/nope`, as('alice'));
    expect(unknown.status).toBe(404);
  });

  it.runIf(findWebRoot())(
    'serves the web app under the prefix, assets and deep links',
    async () => {
      for (const path of ['/ops', '/ops/', '/ops/admin/operations']) {
        const page = await fetch(`${base}${path}`);
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toContain('<meta name="runwarden-base" content="/ops" />');
        const asset = /src="(\/ops\/assets\/[^"]+\.js)"/.exec(html)?.[1];
        expect(asset).toBeDefined();
        const js = await fetch(`${base}${asset}`);
        expect(js.status).toBe(200);
        await js.arrayBuffer(); // read it all, or the server's close waits for this connection
      }
    },
  );

  it("closing the host ends the mount's live streams instead of waiting for them", async () => {
    people.set('sam', {
      email: 'sam@acme.test',
      name: 'Sam',
      workspaces: [{ slug: 'acme', role: 'readonly', tenants: null }],
      platform: [],
    });
    const stream = await fetch(`${base}/ops/api/stream`, as('sam'));
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the stream is open
    closed = true;
    await settlesWithin(host.close(), 5_000, 'the host to close with a stream open');
    for (;;) if ((await reader.read()).done) break;
  });
});
