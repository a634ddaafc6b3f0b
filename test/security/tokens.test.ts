import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { redeemToken } from '../../src/access/tokens.js';
import { checkGate, gatePasses } from '../../src/execution/gate.js';
import { defineOperation } from '../../src/execution/operation.js';
import { directoryOf, inviteTokenOf } from '../http/directory-support.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';
import { runTestWorker } from '../support/worker.js';

// Issue 20, replayed over real HTTP (DESIGN §10 "Tenancy is a boundary"): a token made without a
// person acts for the workspace (it used to borrow the longest-standing owner: her name on its
// runs, her notifications, dead when she left); a bearer request writes `last_used_at` at most
// once a minute; bearer values that name no token are throttled per client address.

const echo = defineOperation({
  type: 'sec.echo',
  label: 'Echo',
  scope: 'tenant',
  input: z.object({ tag: z.string().max(50) }),
  identity: (input) => input,
  async run() {
    return { outcome: 'succeeded' };
  },
});
const BAD_TOKENS_PER_MINUTE = 3;
const h = await apiHarness({
  operations: [echo],
  app: { trustProxy: true, badTokensPerMinute: BAD_TOKENS_PER_MINUTE },
});
const directory = directoryOf(h);
let base: string;
let worker: Awaited<ReturnType<typeof runTestWorker>> | undefined;

beforeAll(async () => {
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await worker?.close();
});

/** One real HTTP request; `from` is the client address (X-Forwarded-For, the app trusts it). */
async function call(
  path: string,
  options: { token?: string; caller?: Caller; method?: string; body?: unknown; from?: string } = {},
) {
  const headers: Record<string, string> = { ...options.caller?.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.from) headers['x-forwarded-for'] = options.from;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

async function runOf(id: string) {
  return await h.db
    .selectFrom('operation_runs')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** A new owner of contoso, signed in (their invite redeemed over HTTP). */
async function newOwner(email: string): Promise<Caller> {
  const added = await directory.upsertMember({ workspace: 'contoso', email, role: 'owner' });
  const set = await call('/api/auth/password', {
    method: 'POST',
    body: { inviteToken: inviteTokenOf(added.invite?.url), newPassword: DEMO_PASSWORD },
  });
  expect(set.status).toBe(204);
  return await h.login(email);
}

describe('service tokens (made without a person)', () => {
  it('act for the workspace: their runs name them and notify nobody, they outlive the owners, owners revoke them, and a revoked one blocks its queued runs', async () => {
    // What `runwarden admin token create --workspace contoso --name deploy-bot --role operator` does.
    const bot = await directory.createToken({
      workspace: 'contoso',
      name: 'deploy-bot',
      role: 'operator',
    });
    const start = (tag: string) =>
      call('/api/workspaces/contoso/operations', {
        token: bot.token,
        method: 'POST',
        body: { type: 'sec.echo', tenantId: h.ids.prod, input: { tag } },
      });

    const first = await start('first');
    expect(first.status).toBe(202);
    // The run shows the service as its initiator, not the workspace's longest-standing owner.
    expect(first.json.run.initiator).toEqual({ id: bot.id, name: 'deploy-bot', kind: 'service' });
    const detail = await call(`/api/operations/${first.json.run.id}`, { token: bot.token });
    expect(detail.json.initiator).toEqual(first.json.run.initiator);
    const started = await h.db
      .selectFrom('audit_log')
      .select(['actor_user_id', 'actor_kind'])
      .where('action', '=', 'run.start')
      .where('target_id', '=', first.json.run.id)
      .executeTakeFirstOrThrow();
    expect(started).toEqual({ actor_user_id: null, actor_kind: 'service:deploy-bot' });

    // It runs to the end and nobody is notified: no person started it.
    worker = await runTestWorker(h.t, h.registry);
    await until(async () => (await runOf(first.json.run.id)).status === 'completed', {
      within: 15_000,
      what: 'the service run to complete',
    });
    expect((await runOf(first.json.run.id)).outcome).toBe('succeeded');
    const notices = await h.db
      .selectFrom('notifications')
      .select('user_id')
      .where('run_id', '=', first.json.run.id)
      .execute();
    expect(notices).toEqual([]);
    await worker.close();
    worker = undefined;

    // The owner it used to borrow leaves; the service goes on.
    const olive = await newOwner('second-owner@demo.test');
    await directory.removeMember({ workspace: 'contoso', email: 'owner@demo.test' });
    expect((await call('/api/workspaces/contoso/operations', { token: bot.token })).status).toBe(
      200,
    );
    const queued = await start('queued');
    expect(queued.status).toBe(202);

    // Owners see it as a service (no person behind it) and revoke it.
    const listed = await call('/api/workspaces/contoso/tokens', { caller: olive });
    expect(listed.json.items).toContainEqual(
      expect.objectContaining({ id: bot.id, kind: 'service', createdBy: null, revokedAt: null }),
    );
    const revoked = await call(`/api/workspaces/contoso/tokens/${bot.id}`, {
      caller: olive,
      method: 'DELETE',
    });
    expect(revoked.status).toBe(204);
    expect((await call('/api/me', { token: bot.token })).status).toBe(401);

    // Its run still queued is blocked at the gate: nobody vouches for it any more.
    worker = await runTestWorker(h.t, h.registry);
    const blocked = await until(
      async () => {
        const run = await runOf(queued.json.run.id);
        return run.status === 'completed' ? run : undefined;
      },
      { within: 15_000, what: 'the revoked service run to be gated' },
    );
    expect(blocked).toMatchObject({
      outcome: 'blocked',
      failures: [expect.objectContaining({ code: 'gate.initiator_unauthorized' })],
    });
    // Both forms of the gate agree (the worker's one-statement start uses the SQL one).
    expect(await checkGate(h.db, blocked)).toMatchObject({
      pass: false,
      code: 'gate.initiator_unauthorized',
    });
    const inSql = await h.db
      .selectFrom('operation_runs')
      .select(gatePasses().as('passes'))
      .where('id', '=', blocked.id)
      .executeTakeFirstOrThrow();
    expect(inSql.passes).toBe(false);
    await worker.close();
    worker = undefined;
  });
});

describe('bearer requests cost the database little', () => {
  it('write last_used_at at most once a minute per token', async () => {
    const made = await directory.createToken({
      workspace: 'contoso',
      name: 'poller',
      role: 'readonly',
    });
    const version = async () =>
      (
        await sql<{ v: string; used: Date | null }>`
          select xmin::text as v, last_used_at as used from api_tokens where id = ${made.id}`.execute(
          h.db,
        )
      ).rows[0];
    expect((await call('/api/me', { token: made.token })).status).toBe(200);
    const first = await version();
    expect(first?.used).not.toBeNull();
    for (let i = 0; i < 3; i++)
      expect((await call('/api/me', { token: made.token })).status).toBe(200);
    // Not one write more: the row version is the same.
    expect(await version()).toEqual(first);

    // A minute later (the row's last use moved back), the next request records it again.
    await h.db
      .updateTable('api_tokens')
      .set({ last_used_at: sql`now() - interval '61 seconds'` })
      .where('id', '=', made.id)
      .execute();
    const before = await version();
    expect((await call('/api/me', { token: made.token })).status).toBe(200);
    const after = await version();
    expect(after?.v).not.toBe(before?.v);
    expect(after?.used?.getTime()).toBeGreaterThan(before?.used?.getTime() ?? 0);
    // redeemToken's clock is the caller's: a use within the minute writes nothing.
    const now = after?.used as Date;
    await redeemToken(h.db, made.token, new Date(now.getTime() + 59_000));
    expect((await version())?.v).toBe(after?.v);
  });

  it('throttle bogus bearer tokens per client address: 429 with Retry-After after the limit', async () => {
    const attacker = '203.0.113.7';
    const guesses = [];
    for (let i = 0; i < BAD_TOKENS_PER_MINUTE; i++)
      guesses.push(await call('/api/me', { token: `rwt_guess${i}`, from: attacker }));
    expect(guesses.map((g) => g.status)).toEqual(Array(BAD_TOKENS_PER_MINUTE).fill(401));
    const over = await call('/api/me', { token: 'rwt_one-too-many', from: attacker });
    expect(over.status).toBe(429);
    expect(over.json.error.code).toBe('rate_limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    // Throttled, the address gets nothing more out of guessing: even a real token waits.
    const real = await directory.createToken({
      workspace: 'contoso',
      name: 'real',
      role: 'readonly',
    });
    expect((await call('/api/me', { token: real.token, from: attacker })).status).toBe(429);
    // Revoked tokens count like unknown ones; other addresses are not affected.
    await directory.revokeToken({ workspace: 'contoso', id: real.id });
    expect((await call('/api/me', { token: real.token, from: '198.51.100.2' })).status).toBe(401);
    const other = await directory.createToken({
      workspace: 'contoso',
      name: 'other',
      role: 'readonly',
    });
    expect((await call('/api/me', { token: other.token, from: '198.51.100.2' })).status).toBe(200);
  });
});
