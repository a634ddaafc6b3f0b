import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../../src/catalog/index.js';
import { seedDemo } from '../../src/cli/demo-seed/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createDb, createPool, type Db } from '../../src/db/pool.js';
import { migrateQueue } from '../../src/execution/queue.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { until } from '../support/db.js';
import { DEMO_PASSWORD } from '../support/http.js';
import { type OutageCluster, startOutageCluster } from '../support/outage-cluster.js';
import { eventsNamed, openStream, type SseStream } from '../support/sse.js';
import { quietLogger } from '../support/worker.js';

// DESIGN §16: while PostgreSQL is down every route that needs it answers 503
// `database_unavailable` with Retry-After (never 500), routes that do not need it answer as ever,
// and once it is back everything works again without restarting the process; the live stream
// sends `resync` when its LISTEN connection is back, not when it was lost.

const UNAVAILABLE = {
  error: { code: 'database_unavailable', message: 'The database is unreachable; retry shortly.' },
};

let cluster: OutageCluster;
let db: Db;
let listenPool: pg.Pool;
let app: FastifyInstance;
let base: string;
let webRoot: string;
let session: Record<string, string>;
let bearer: Record<string, string>;
let prodTenant: string;
let runId: string;
const streams: SseStream[] = [];
let tag = 0;

interface Answer {
  status: number;
  retryAfter: string | null;
  type: string;
  body: string;
}

async function call(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(`${base}${url}`, {
    method,
    redirect: 'manual',
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    type: res.headers.get('content-type') ?? '',
    body: await res.text(),
  };
}

/** Routes that read or write the database, and what each answers when it can. */
const needsDatabase = () => [
  {
    what: 'list runs (session)',
    ok: 200,
    send: () => call('GET', '/api/workspaces/contoso/operations', session),
  },
  {
    what: 'list runs (token)',
    ok: 200,
    send: () => call('GET', '/api/workspaces/contoso/operations', bearer),
  },
  { what: 'run detail', ok: 200, send: () => call('GET', `/api/operations/${runId}`, session) },
  {
    what: 'start a run (token)',
    ok: 202,
    send: () =>
      call('POST', '/api/workspaces/contoso/operations', bearer, {
        type: 'demo.sleep',
        tenantId: prodTenant,
        input: { seconds: 600, tag: `outage-${++tag}` },
      }),
  },
  {
    what: 'log in',
    ok: 200,
    send: () =>
      call('POST', '/api/auth/login', {}, { email: 'owner@demo.test', password: DEMO_PASSWORD }),
  },
  { what: 'me', ok: 200, send: () => call('GET', '/api/me', session) },
  { what: 'notifications', ok: 200, send: () => call('GET', '/api/notifications', session) },
  { what: 'metrics', ok: 200, send: () => call('GET', '/metrics') },
  // The session cookie is looked up on every path, pages too.
  { what: 'a web page, signed in', ok: 200, send: () => call('GET', '/admin/operations', session) },
];

/** Routes that never touch the database. */
const noDatabase = () => [
  { what: 'a web page, signed out', ok: 200, send: () => call('GET', '/admin/operations') },
  { what: 'OpenAPI document', ok: 200, send: () => call('GET', '/api/openapi.json') },
  { what: 'demo logins', ok: 200, send: () => call('GET', '/api/auth/demo') },
];

function expectUnavailable(what: string, answer: Answer): void {
  expect(answer.status, `${what}: ${answer.body}`).toBe(503);
  expect(answer.retryAfter, `${what}: Retry-After`).toBe('5');
  expect(answer.type, what).toMatch(/^application\/json/);
  expect(JSON.parse(answer.body), what).toEqual(UNAVAILABLE);
}

/** Sends requests until stopped; every answer must be a success or an honest 503. */
function hammer(): { stop(): Promise<Answer[]> } {
  let running = true;
  const answers: Answer[] = [];
  const probes = needsDatabase();
  const loops = [0, 1, 2, 3].map(async (lane) => {
    for (let i = lane; running; i++) {
      const probe = probes[i % probes.length] as (typeof probes)[number];
      answers.push(await probe.send());
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

function expectHonest(answers: Answer[]): void {
  expect(answers.length).toBeGreaterThan(0);
  for (const answer of answers) {
    if (answer.status < 400) continue;
    expect(answer.status, answer.body).toBe(503);
    expect(answer.retryAfter).toBe('5');
    expect(JSON.parse(answer.body)).toEqual(UNAVAILABLE);
  }
}

async function login(): Promise<Record<string, string>> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'owner@demo.test', password: DEMO_PASSWORD }),
  });
  expect(res.status).toBe(200);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('runwarden_session='));
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie: (cookie as string).split(';')[0] as string, 'x-csrf-token': csrfToken };
}

async function stream(): Promise<SseStream> {
  const s = await openStream(`${base}/api/stream?workspace=contoso`, session);
  streams.push(s);
  expect(s.status, s.body).toBe(200);
  await until(() => eventsNamed(s, 'ready').length, { what: 'ready' });
  return s;
}

const listening = async () => {
  const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
    where datname = current_database() and query ilike 'listen%'`.execute(db);
  return Number(rows[0]?.n ?? -1);
};

beforeAll(async () => {
  cluster = await startOutageCluster();
  const migrator = createDb(cluster.url, { max: 1 });
  await migrateToLatest(migrator);
  await migrator.destroy();
  const queuePool = createPool(cluster.url, { max: 1 });
  await migrateQueue(queuePool);
  await queuePool.end();

  // createPool's own client error listeners keep a dropped connection from crashing this process.
  db = createDb(createPool(cluster.url, { max: 10 }));
  listenPool = createPool(cluster.url, { max: 2 });
  const registry = new OperationRegistry(
    demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }),
  );
  await seedDemo({ db, registry }, { password: DEMO_PASSWORD, history: false });
  const tenant = await db
    .selectFrom('tenants')
    .select('id')
    .where('slug', '=', 'contoso-prod')
    .executeTakeFirstOrThrow();
  prodTenant = tenant.id;
  webRoot = await mkdtemp(path.join(tmpdir(), 'runwarden-outage-web-'));
  await mkdir(path.join(webRoot, 'assets'));
  await writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>Runwarden</title>');
  app = await buildApp({
    db,
    pool: listenPool,
    logger: quietLogger,
    registry,
    runs: new RunService({ db }),
    options: { loginPerMinute: 10_000, summaryCacheMs: 0, streamHeartbeatMs: 200, webRoot },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  session = await login();
  const token = await call('POST', '/api/workspaces/contoso/tokens', session, {
    name: 'outage',
    role: 'manager',
  });
  expect(token.status, token.body).toBe(201);
  bearer = { authorization: `Bearer ${(JSON.parse(token.body) as { token: string }).token}` };
  const started = await needsDatabase()[3]?.send();
  expect(started?.status, started?.body).toBe(202);
  runId = (JSON.parse(started?.body ?? '{}') as { run: { id: string } }).run.id;
}, 120_000);

afterAll(async () => {
  for (const s of streams) s.close();
  await app?.close();
  await listenPool?.end();
  await db?.destroy();
  await cluster?.destroy();
  if (webRoot) await rm(webRoot, { recursive: true, force: true });
}, 60_000);

describe.each(['fast', 'immediate'] as const)(
  'the API while PostgreSQL is down (%s stop)',
  (mode) => {
    it('answers 503 database_unavailable with Retry-After, never 500, and recovers without a restart', async () => {
      for (const probe of needsDatabase()) {
        const answer = await probe.send();
        expect(answer.status, `${probe.what} before the outage: ${answer.body}`).toBe(probe.ok);
      }
      const live = await stream();

      // Requests in flight as it goes down meet terminated connections and refused connects.
      const during = hammer();
      await cluster.stop(mode);
      expectHonest(await during.stop());
      const heartbeatsAtStop = live.comments.length;

      for (const probe of needsDatabase()) expectUnavailable(probe.what, await probe.send());
      for (const probe of noDatabase()) {
        const answer = await probe.send();
        expect(answer.status, `${probe.what}: ${answer.body}`).toBe(probe.ok);
      }
      const health = await call('GET', '/api/health');
      expect(health.status).toBe(503);
      expect(health.retryAfter).toBe('5');
      expect(JSON.parse(health.body)).toEqual({ status: 'error', database: 'unreachable' });
      // A browser (or a probe) with a session cookie gets the same answer: health looks no
      // session up, so it only ever answers its own schema.
      const signedInHealth = await call('GET', '/api/health', session);
      expect(signedInHealth.status, signedInHealth.body).toBe(503);
      expect(signedInHealth.retryAfter).toBe('5');
      expect(JSON.parse(signedInHealth.body)).toEqual({ status: 'error', database: 'unreachable' });
      const newStream = await openStream(`${base}/api/stream`, session);
      expect(newStream.status).toBe(503);
      expect(JSON.parse(newStream.body)).toEqual(UNAVAILABLE);

      // The open stream lives on (heartbeats), and is not told to reload while a reload would fail.
      await until(() => live.comments.length >= heartbeatsAtStop + 3, {
        within: 5_000,
        what: 'heartbeats during the outage',
      });
      expect(eventsNamed(live, 'resync'), 'resync while the database is still down').toEqual([]);

      // Requests while it starts up meet "the database system is starting up".
      const starting = hammer();
      await cluster.start();
      expectHonest(await starting.stop());

      await until(() => eventsNamed(live, 'resync').length, {
        within: 15_000,
        what: 'resync once LISTEN is back',
      });
      expect(await listening()).toBe(1);

      for (const probe of needsDatabase()) {
        const answer = await probe.send();
        expect(answer.status, `${probe.what} after the outage: ${answer.body}`).toBe(probe.ok);
      }
      const healthy = await call('GET', '/api/health');
      expect(healthy.status).toBe(200);
      expect(JSON.parse(healthy.body)).toEqual({ status: 'ok', database: 'ok' });

      // The stream is live again: a change made now reaches it after its resync.
      const after = await needsDatabase()[3]?.send();
      expect(after?.status).toBe(202);
      const id = (JSON.parse(after?.body ?? '{}') as { run: { id: string } }).run.id;
      await until(() => eventsNamed(live, 'run').some((e) => e.data.includes(id)), {
        within: 5_000,
        what: 'a change after the outage on the stream',
      });
      const again = await stream();
      again.close();
      live.close();
    }, 120_000);
  },
);
