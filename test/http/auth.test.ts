import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { apiHarness, DEMO_PASSWORD } from '../support/http.js';

const h = await apiHarness();

describe('login, sessions and CSRF', () => {
  it('logs in with email and password, stores the session in PostgreSQL, and sets a safe cookie', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'Owner@Demo.test', password: DEMO_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { user: { email: string }; csrfToken: string };
    expect(body.user.email).toBe('owner@demo.test');
    expect(body.csrfToken.length).toBeGreaterThan(20);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/runwarden_session=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const sessions = await h.t.db
      .selectFrom('sessions')
      .select('user_id')
      .where('user_id', '=', await h.userId('owner@demo.test'))
      .execute();
    expect(sessions.length).toBeGreaterThan(0);
  });

  it('refuses a wrong password and an unknown email alike with 401', async () => {
    const wrong = await h.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'owner@demo.test', password: 'nope-nope' },
    });
    const unknown = await h.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'nobody@demo.test', password: 'nope-nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.body).toBe(unknown.body);
  });

  it('GET /api/me describes the caller: workspaces, role, capabilities, visible tenants', async () => {
    const restricted = await h.login('restricted@demo.test');
    const me = (await h.request(restricted, { method: 'GET', url: '/api/me' })).json() as {
      csrfToken: string;
      workspaces: Array<{
        slug: string;
        role: string;
        capabilities: string[];
        tenants: Array<{ slug: string }>;
      }>;
      platform: { capabilities: string[] };
    };
    expect(me.workspaces).toHaveLength(1);
    // Restricted: the start dialog offers no workspace-level type (DESIGN §10).
    expect(me.workspaces[0]).toMatchObject({ slug: 'contoso', role: 'operator', restricted: true });
    expect(me.workspaces[0]?.capabilities).toEqual(['operations.view', 'operations.start']);
    const owner = await h.login('owner@demo.test');
    const whole = (await h.request(owner, { method: 'GET', url: '/api/me' })).json() as typeof me;
    expect(whole.workspaces.find((w) => w.slug === 'contoso')).toMatchObject({ restricted: false });
    expect(me.workspaces[0]?.tenants.map((t) => t.slug)).toEqual(['contoso-dev']);
    expect(me.platform.capabilities).toEqual([]);
    const platform = await h.login('platform@demo.test');
    const staff = (
      await h.request(platform, { method: 'GET', url: '/api/me' })
    ).json() as typeof me;
    expect(staff.workspaces).toEqual([]);
    expect([...staff.platform.capabilities].sort()).toEqual([
      'system.ops.triage',
      'system.ops.view',
    ]);
  });

  it('answers a cookie-authenticated write without x-csrf-token with 403, and with it succeeds', async () => {
    const owner = await h.login('owner@demo.test');
    const start = {
      method: 'POST' as const,
      url: '/api/workspaces/contoso/operations',
      payload: { type: 'demo.sleep', tenantId: h.ids.prod, input: { seconds: 1, tag: 'csrf' } },
    };
    const cookieOnly = { name: 'cookie', headers: { cookie: owner.headers.cookie as string } };
    const denied = await h.request(cookieOnly, start);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('csrf_invalid');
    const forged = await h.request(
      { name: 'forged', headers: { ...cookieOnly.headers, 'x-csrf-token': 'forged-token' } },
      start,
    );
    expect(forged.statusCode).toBe(403);
    const ok = await h.request(owner, start);
    expect(ok.statusCode).toBe(202);
  });

  it('logs out: the session stops working', async () => {
    const operator = await h.login('operator@demo.test');
    expect((await h.request(operator, { method: 'GET', url: '/api/me' })).statusCode).toBe(200);
    expect(
      (await h.request(operator, { method: 'POST', url: '/api/auth/logout' })).statusCode,
    ).toBe(200);
    expect((await h.request(operator, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);
  });

  it('rate-limits logins with 429 in the error shape', async () => {
    const pool = new pg.Pool({ connectionString: h.t.url, max: 2 });
    const limited = await buildApp({
      db: h.t.db,
      pool,
      logger: pino({ level: 'silent' }),
      registry: h.registry,
      runs: new RunService({ db: h.t.db }),
      options: { loginPerMinute: 3 },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { email: 'owner@demo.test', password: 'wrong-password' },
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) expect(res.json().error.code).toBe('rate_limited');
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await limited.close();
      await pool.end();
    }
  });

  it('never writes passwords, cookies or tokens to the logs', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const pool = new pg.Pool({ connectionString: h.t.url, max: 2 });
    const logged = await buildApp({
      db: h.t.db,
      pool,
      logger: pino({ level: 'trace' }, sink),
      registry: h.registry,
      runs: new RunService({ db: h.t.db }),
    });
    try {
      const login = await logged.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: 'owner@demo.test', password: DEMO_PASSWORD },
      });
      const cookie = login.cookies.find((c) => c.name === 'runwarden_session')?.value as string;
      const csrf = (login.json() as { csrfToken: string }).csrfToken;
      const token = await logged.inject({
        method: 'POST',
        url: '/api/workspaces/contoso/tokens',
        headers: { cookie: `runwarden_session=${cookie}`, 'x-csrf-token': csrf },
        payload: { name: 'ci', role: 'readonly' },
      });
      const secret = (token.json() as { token: string }).token;
      await logged.inject({
        method: 'GET',
        url: '/api/me',
        headers: { authorization: `Bearer ${secret}` },
      });
      await logged.inject({
        method: 'GET',
        url: '/api/me',
        headers: { authorization: 'Bearer rwt_wrong' },
      });
      // An invite link's one-time token travels in the path: the access log masks it.
      const invite = 'rwi_one-time-invite-secret';
      await logged.inject({ method: 'GET', url: `/invite/${invite}` });
      const text = lines.join('');
      expect(text.length).toBeGreaterThan(0);
      expect(text).toContain('/invite/[redacted]');
      for (const leaked of [DEMO_PASSWORD, cookie, csrf, secret, invite])
        expect(text).not.toContain(leaked);
    } finally {
      await logged.close();
      await pool.end();
    }
  });
});

describe('API tokens', () => {
  it('are created by an owner, shown once, stored hashed, and act with their role in one workspace', async () => {
    const owner = await h.login('owner@demo.test');
    const created = await h.request(owner, {
      method: 'POST',
      url: '/api/workspaces/contoso/tokens',
      payload: { name: 'restore service', role: 'operator' },
    });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json() as { id: string; token: string };
    const stored = await h.t.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(token);

    const bearer = { name: 'token', headers: { authorization: `Bearer ${token}` } };
    const me = (await h.request(bearer, { method: 'GET', url: '/api/me' })).json() as {
      csrfToken: string | null;
      workspaces: Array<{ slug: string; role: string }>;
    };
    expect(me.csrfToken).toBeNull();
    expect(me.workspaces.map((w) => [w.slug, w.role])).toEqual([['contoso', 'operator']]);
    // Bearer writes need no CSRF token.
    const start = await h.request(bearer, {
      method: 'POST',
      url: '/api/workspaces/contoso/operations',
      payload: { type: 'demo.sleep', tenantId: h.ids.dev, input: { seconds: 1, tag: 'token' } },
    });
    expect(start.statusCode).toBe(202);
    expect(start.json().run.initiator.name).toBe('Olivia Owner');
    // An operator token may not cancel.
    const cancel = await h.request(bearer, {
      method: 'POST',
      url: `/api/operations/${start.json().run.id}/cancel`,
    });
    expect(cancel.statusCode).toBe(403);
    const audit = await h.t.db
      .selectFrom('audit_log')
      .select(['action', 'actor_kind'])
      .where('action', '=', 'token.created')
      .execute();
    expect(audit.length).toBeGreaterThan(0);
  });

  it('refuses an unknown or revoked token with 401', async () => {
    const owner = await h.login('owner@demo.test');
    const { id, token } = (
      await h.request(owner, {
        method: 'POST',
        url: '/api/workspaces/contoso/tokens',
        payload: { name: 'to revoke', role: 'readonly' },
      })
    ).json() as { id: string; token: string };
    const bearer = { name: 'token', headers: { authorization: `Bearer ${token}` } };
    expect((await h.request(bearer, { method: 'GET', url: '/api/me' })).statusCode).toBe(200);
    await h.t.db
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .execute();
    expect((await h.request(bearer, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);
    const unknown = { name: 'unknown', headers: { authorization: 'Bearer rwt_not-a-real-token' } };
    expect((await h.request(unknown, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);
  });
});
