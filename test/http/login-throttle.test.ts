import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/pool.js';
import { type AppOptions, buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { apiHarness, DEMO_PASSWORD } from '../support/http.js';
import { quietLogger } from '../support/worker.js';

// Login throttling is shared by every API process (DESIGN §16): each "process" here is its own
// Fastify app with its own connection pool, on one database, with the default limits
// (10 attempts a minute per address, 10 failed logins per 15 minutes per account).
const h = await apiHarness();

async function apiProcess(options: Partial<AppOptions> = {}): Promise<FastifyInstance> {
  const db = createDb(h.t.url, { max: 12 });
  const pool = new pg.Pool({ connectionString: h.t.url, max: 2 });
  const app = await buildApp({
    db,
    pool,
    logger: quietLogger,
    registry: h.registry,
    runs: new RunService({ db }),
    options: { webRoot: false, ...options },
  });
  afterAll(async () => {
    await app.close();
    await db.destroy();
    await pool.end();
  });
  return app;
}

const one = await apiProcess();
const two = await apiProcess();

// Over real sockets behind a trusted proxy: the client address comes from X-Forwarded-For.
const proxied = await Promise.all([
  apiProcess({ trustProxy: true }),
  apiProcess({ trustProxy: true }),
]);
const bases = await Promise.all(proxied.map((app) => app.listen({ port: 0, host: '127.0.0.1' })));

async function post(n: number, from: string, email: string, password = 'wrong-password') {
  const res = await fetch(`${bases[n % 2]}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({ email, password }),
  });
  const headers = Object.fromEntries(res.headers.entries());
  const body = (await res.json()) as unknown;
  return { statusCode: res.status, headers, json: () => body };
}

function login(app: FastifyInstance, from: string, email: string, password = 'wrong-password') {
  return app.inject({
    method: 'POST',
    url: '/api/auth/login',
    remoteAddress: from,
    payload: { email, password },
  });
}

function expectThrottled(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  maxSeconds: number,
) {
  expect(res.statusCode).toBe(429);
  expect(res.json()).toEqual({
    error: { code: 'rate_limited', message: expect.stringMatching(/try again/) },
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
}

describe('login throttling per client address, across API processes', () => {
  it('10 attempts spread over two processes: the 11th is 429 with Retry-After on either', async () => {
    const from = '198.51.100.10';
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      // Different (unknown) accounts, so only the address limit is in play.
      const res = await login(i % 2 === 0 ? one : two, from, `guess${i}@nowhere.test`);
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual(Array(10).fill(401));
    expectThrottled(await login(one, from, 'guess10@nowhere.test'), 60);
    expectThrottled(await login(two, from, 'guess11@nowhere.test'), 60);
    // The right password does not get past it either; another address is not affected.
    expectThrottled(await login(two, from, 'owner@demo.test', DEMO_PASSWORD), 60);
    expect((await login(one, '198.51.100.11', 'owner@demo.test', DEMO_PASSWORD)).statusCode).toBe(
      200,
    );
  });

  it('concurrent attempts on separate connections never let more than 10 through', async () => {
    const from = '198.51.100.20';
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        login(i % 2 === 0 ? one : two, from, `race${i}@nowhere.test`),
      ),
    );
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
  });
});

describe('login throttling per account, across addresses and API processes', () => {
  it('10 failed logins for one email from 10 addresses: the 11th, from a fresh one, is 429', async () => {
    for (let i = 1; i <= 10; i++) {
      expect((await post(i, `203.0.113.${i}`, 'Operator@Demo.test')).statusCode).toBe(401);
    }
    expectThrottled(await post(0, '203.0.113.50', 'operator@demo.test'), 15 * 60);
    // Locked for every address and process, even with the right password and another spelling.
    expectThrottled(await post(1, '203.0.113.51', ' OPERATOR@demo.test', DEMO_PASSWORD), 15 * 60);

    // Another account from the same addresses is still allowed, until the address limit applies:
    // 203.0.113.2 has made 1 attempt; successful logins never count against the account.
    expect((await post(0, '203.0.113.1', 'readonly@demo.test')).statusCode).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await post(i, '203.0.113.2', 'readonly@demo.test', DEMO_PASSWORD)).statusCode);
    }
    expect(statuses).toEqual([...Array(9).fill(200), 429]);
  });

  it('counts an email that has no account exactly like one that has, so refusals reveal nothing', async () => {
    const bodies: string[] = [];
    for (const email of ['owner@demo.test', 'no-such-user@demo.test']) {
      for (let i = 1; i <= 10; i++) {
        expect((await post(i, `192.0.2.${i}`, email)).statusCode).toBe(401);
      }
      const refused = await post(0, '192.0.2.99', email);
      expectThrottled(refused, 15 * 60);
      bodies.push(JSON.stringify(refused.json()).replace(/\d+ s\b/, 'N s'));
    }
    expect(bodies[0]).toBe(bodies[1]);
  });

  it('concurrent failed logins for one email from many addresses never let more than 10 through', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => post(i, `100.64.0.${i + 1}`, 'outsider@demo.test')),
    );
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
  });

  it('stores neither the address nor the typed email', async () => {
    const rows = await h.db.selectFrom('login_throttle').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    const text = JSON.stringify(rows);
    for (const leaked of ['203.0.113', '198.51.100', 'operator', 'demo.test']) {
      expect(text).not.toContain(leaked);
    }
  });
});
