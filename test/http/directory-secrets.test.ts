import { Writable } from 'node:stream';
import type { InjectOptions } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';
import { inviteTokenOf } from './directory-support.js';

// Issue #12: no secret (an invite's one-time token, an API token) reaches a log line, a stored
// row or any response after its one showing (DESIGN §10, §11). The API runs here with a logger
// at trace level writing to memory, so every line it logs is read back.

const h = await apiHarness();
const lines: string[] = [];
const pool = new pg.Pool({ connectionString: h.t.url, max: 2 });
const app = await buildApp({
  db: h.db,
  pool,
  logger: pino(
    { level: 'trace' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  ),
  registry: h.registry,
  runs: new RunService({ db: h.db }),
  options: { loginPerMinute: 10_000 },
});
afterAll(async () => {
  await app.close();
  await pool.end();
});

const ask = (caller: Caller | undefined, options: InjectOptions) =>
  app.inject({ ...options, headers: { ...caller?.headers, ...options.headers } });
async function login(email: string, password = DEMO_PASSWORD): Promise<Caller> {
  const res = await ask(undefined, {
    method: 'POST',
    url: '/api/auth/login',
    payload: { email, password },
  });
  expect(res.statusCode, res.body).toBe(200);
  const cookie = res.cookies.find((c) => c.name === 'runwarden_session');
  return {
    name: email,
    headers: {
      cookie: `runwarden_session=${cookie?.value}`,
      'x-csrf-token': res.json().csrfToken,
    },
  };
}

const newPassword = 'the invited one chose this';
let owner: Caller;
let invite: string;
let inviteToken: string;
let apiToken: string;
let tokenId: string;
/** Every response body after each secret's one showing. */
const later: string[] = [];

beforeAll(async () => {
  owner = await login('owner@demo.test');
  const added = await ask(owner, {
    method: 'PUT',
    url: '/api/workspaces/contoso/members/newcomer@demo.test',
    payload: { role: 'operator', tenantIds: null, name: 'Newcomer' },
  });
  expect(added.statusCode, added.body).toBe(201);
  invite = added.json().invite;
  inviteToken = inviteTokenOf(invite);
  const created = await ask(owner, {
    method: 'POST',
    url: '/api/workspaces/contoso/tokens',
    payload: { name: 'deploy', role: 'operator' },
  });
  expect(created.statusCode, created.body).toBe(201);
  ({ id: tokenId, token: apiToken } = created.json());

  const record = async (caller: Caller | undefined, options: InjectOptions) => {
    const res = await ask(caller, options);
    // The request's own URL may hold the token (the invite page): only the answer counts.
    later.push(
      `${options.method ?? 'GET'} ${String(options.url).replace(inviteToken, '…')} → ${res.statusCode} ${res.body}`,
    );
    return res;
  };
  const bearer = { name: 'token', headers: { authorization: `Bearer ${apiToken}` } };
  // The same member again: 200 without a new link; then every list and the audit log.
  await record(owner, {
    method: 'PUT',
    url: '/api/workspaces/contoso/members/newcomer@demo.test',
    payload: { role: 'operator', tenantIds: null },
  });
  for (const url of ['members', 'tokens', 'tenants'])
    await record(owner, { method: 'GET', url: `/api/workspaces/contoso/${url}` });
  await record(bearer, { method: 'GET', url: '/api/me' });
  await record(bearer, { method: 'GET', url: '/api/workspaces/contoso/tokens' });
  // A refused redemption (too short a password), then the real one, then a second one.
  const redeem = (password: string) =>
    record(undefined, {
      method: 'POST',
      url: '/api/invitations/accept',
      payload: { token: inviteToken, newPassword: password },
    });
  expect((await redeem('short')).statusCode).toBe(400);
  expect((await redeem(newPassword)).statusCode).toBe(204);
  expect((await redeem(newPassword)).statusCode).toBe(400);
  await record(undefined, { method: 'GET', url: `/invite/${inviteToken}` });
  await record(await login('newcomer@demo.test', newPassword), { method: 'GET', url: '/api/me' });
  // Revoked: the token is refused from its next request.
  await record(owner, { method: 'DELETE', url: `/api/workspaces/contoso/tokens/${tokenId}` });
  expect((await record(bearer, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);
  await record(await login('platform@demo.test'), { method: 'GET', url: '/api/system/audit' });
});

describe('secrets are shown once', () => {
  it('the invite link and the API token were shown (the one showing this test relies on)', () => {
    expect(invite).toMatch(/\/invite\/rwm_[\w-]{40,}$/);
    expect(apiToken).toMatch(/^rwt_[\w-]{40,}$/);
  });

  it('no later response carries either secret: lists, /api/me, refusals, the audit log', () => {
    expect(later.length).toBeGreaterThan(10);
    expect(later.join('\n')).toContain('/api/system/audit → 200');
    for (const body of later) {
      expect(body).not.toContain(inviteToken);
      expect(body).not.toContain(apiToken);
    }
  });

  it('no log line carries either secret, nor a password', () => {
    const text = lines.join('');
    expect(text).toContain('/api/workspaces/contoso/members/newcomer@demo.test');
    expect(text).toContain('/invite/[redacted]');
    for (const secret of [inviteToken, apiToken, newPassword, DEMO_PASSWORD])
      expect(text).not.toContain(secret);
  });

  it('no stored row carries either secret in the clear (only hashes are kept)', async () => {
    const tables = [
      'audit_log',
      'invites',
      'pending_memberships',
      'api_tokens',
      'users',
      'settings',
      'sessions',
    ];
    for (const table of tables) {
      const rows = await h.db
        .selectFrom(table as 'audit_log')
        .selectAll()
        .execute();
      const text = JSON.stringify(rows);
      expect(text, table).not.toContain(inviteToken);
      expect(text, table).not.toContain(apiToken);
    }
  });
});
