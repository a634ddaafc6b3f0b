import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { type RunwardenPrincipal, runwardenFastify } from '../../src/fastify/index.js';
import { createRunwarden, type Runwarden } from '../../src/runwarden.js';
import { freshDatabase } from '../support/db.js';
import { quietLogger } from '../support/worker.js';

// Issue 20, replayed against the real plugin over real HTTP (DESIGN §10, §15): embedded under a
// host, a person's rights come only from the host's resolver. Mallory, an owner while the host
// vouched for her, used to mint an API token under the mount and keep acting as owner with it
// after the host dropped her.

const job = defineOperation({
  type: 'host.job',
  label: 'Host job',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (input) => input,
  async run() {
    return { outcome: 'succeeded' };
  },
});

/** Who the host says is signed in: header `x-host-user` names one of these. */
const people = new Map<string, RunwardenPrincipal | null>();
const mallory: RunwardenPrincipal = {
  email: 'mallory@host.test',
  name: 'Mallory',
  workspaces: [{ slug: 'acme', role: 'owner', tenants: null }],
  platform: [],
};

let rw: Runwarden;
let host: FastifyInstance;
let base: string;

beforeAll(async () => {
  const t = await freshDatabase();
  rw = createRunwarden({
    databaseUrl: t.url,
    operations: [job as OperationDefinition],
    logger: quietLogger,
  });
  await rw.migrate();
  await rw.directory.upsertWorkspace({ slug: 'acme', name: 'Acme' });
  await rw.directory.upsertTenant({ workspace: 'acme', slug: 'acme-prod', name: 'Production' });
  host = Fastify();
  await host.register(runwardenFastify, {
    prefix: '/ops',
    runwarden: rw,
    databaseUrl: t.url,
    logger: quietLogger,
    webRoot: false,
    resolvePrincipal: (request) => people.get(String(request.headers['x-host-user'])) ?? null,
  });
  base = await host.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await host?.close();
  await rw?.close();
});

/** A browser of the host's: its user header, the mount's CSRF cookie and token once read. */
async function browserOf(user: string) {
  const me = await fetch(`${base}/ops/api/me`, { headers: { 'x-host-user': user } });
  expect(me.status).toBe(200);
  const { csrfToken } = (await me.json()) as { csrfToken: string };
  const cookie = (me.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${base}/ops${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'x-host-user': user,
        'x-csrf-token': csrfToken,
        cookie,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body ? { body: JSON.stringify(init.body) } : {}),
    });
}

const withBearer = (token: string, path: string, init: RequestInit = {}) =>
  fetch(`${base}/ops${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as object) },
  });

describe('embedded: credentials stop with the host', () => {
  it("a person cannot mint a token under the mount that outlives the host's resolver", async () => {
    people.set('mallory', mallory);
    const browser = await browserOf('mallory');
    expect((await browser('/api/workspaces/acme/operations')).status).toBe(200);

    const minted = await browser('/api/workspaces/acme/tokens', {
      method: 'POST',
      body: { name: 'keepsake', role: 'owner' },
    });
    const answer = (await minted.json()) as { token?: string; error?: { message: string } };
    expect(minted.status).toBe(403);
    expect(answer.token).toBeUndefined();
    expect(answer.error?.message).toMatch(/service token/);
    expect(await rw.db.selectFrom('api_tokens').select('id').execute()).toEqual([]);

    // The host drops her: nothing of hers works under the mount any more.
    people.set('mallory', null);
    expect((await browser('/api/workspaces/acme/operations')).status).toBe(401);
  });

  it('a person token is refused under the mount, even while the host vouches for its person', async () => {
    people.set('mallory', mallory);
    await browserOf('mallory'); // the resolver wrote her membership into the directory
    // A person token made elsewhere (the CLI's --as, or one minted before this fix).
    const hers = await rw.directory.createToken({
      workspace: 'acme',
      name: 'old',
      role: 'owner',
      as: 'mallory@host.test',
    });
    const res = await withBearer(hers.token, '/api/workspaces/acme/operations');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /only service tokens/,
    );
    people.set('mallory', null);
    expect((await withBearer(hers.token, '/api/workspaces/acme/operations')).status).toBe(401);
  });

  it("the host's own service tokens (made through the library) work under the mount", async () => {
    const bot = await rw.directory.createToken({
      workspace: 'acme',
      name: 'host-bot',
      role: 'operator',
    });
    const started = await withBearer(bot.token, '/api/workspaces/acme/operations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'host.job',
        tenantId: (
          await rw.db
            .selectFrom('tenants')
            .select('id')
            .where('slug', '=', 'acme-prod')
            .executeTakeFirstOrThrow()
        ).id,
        input: { tag: 'bot' },
      }),
    });
    expect(started.status).toBe(202);
    const { run } = (await started.json()) as { run: { initiator: unknown } };
    expect(run.initiator).toEqual({ id: bot.id, name: 'host-bot', kind: 'service' });
    await rw.directory.revokeToken({ workspace: 'acme', id: bot.id });
    expect((await withBearer(bot.token, '/api/me')).status).toBe(401);
  });
});
