import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { hashPassword } from '../../src/access/passwords.js';
import { loadUserPrincipal } from '../../src/access/principal.js';
import type { Role } from '../../src/db/schema.js';
import { DEFAULT_RUN_LOG_CAPS, toLogLine } from '../../src/domain/run-log-lines.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { type AppOptions, buildApp } from '../../src/http/app.js';
import { appendRunLog } from '../../src/runs/run-logs.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';
import { openStream, type SseStream } from '../support/sse.js';
import { quietLogger } from '../support/worker.js';

// Issue 20 (DESIGN §10): a live stream outlived its caller's access — a removed member, a revoked
// token, a disabled user kept receiving run events. Now a stream re-checks its caller on every
// heartbeat and on every directory change (a NOTIFY), and ends. Each change is made by a path of
// its own: plain SQL, which no NOTIFY announces (the heartbeat must catch it), and the directory
// or a logout over HTTP with a heartbeat of an hour (the NOTIFY must).

// The short heartbeat: changes made in SQL are caught by it alone.
const h = await apiHarness({ app: { streamHeartbeatMs: 100 } });
const HOUR = 3_600_000;
let apiUrl: string;
let quietUrl: string;
let hostUrl: string;
let owner: Caller;
const streams = new Set<SseStream>();
const apps: FastifyInstance[] = [];
const pools: pg.Pool[] = [];
/** The people the embedded host vouches for (its resolver reads `x-host-user`). */
const vouched = new Map<string, string>();
/** What a host that reads its session once per request found on each request. */
const sessionRead = new WeakMap<object, string>();

/** Another API process on the same database, with its own LISTEN connection. */
async function anotherApp(options: Partial<AppOptions>): Promise<string> {
  const pool = new pg.Pool({ connectionString: h.t.url, max: 2 });
  const app = await buildApp({
    db: h.db,
    pool,
    logger: quietLogger,
    registry: h.registry,
    runs: h.runs,
    options: { loginPerMinute: 10_000, summaryCacheMs: 0, webRoot: false, ...options },
  });
  apps.push(app);
  pools.push(pool);
  return await app.listen({ port: 0, host: '127.0.0.1' });
}

beforeAll(async () => {
  apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
  // Only a directory NOTIFY can end its streams before an hour has passed.
  quietUrl = await anotherApp({ streamHeartbeatMs: HOUR });
  hostUrl = await anotherApp({
    streamHeartbeatMs: 100,
    async resolvePrincipal(request) {
      const key = String(request.headers['x-host-user']);
      if (request.headers['x-host-session'] === 'read-once') {
        // A session read when the request came, kept on the request.
        const read = sessionRead.get(request) ?? vouched.get(key);
        if (read) sessionRead.set(request, read);
        return read ? await loadUserPrincipal(h.db, read) : undefined;
      }
      const userId = vouched.get(key);
      return userId ? await loadUserPrincipal(h.db, userId) : undefined;
    },
  });
  owner = await h.login('owner@demo.test');
});

afterAll(async () => {
  for (const stream of streams) stream.close();
  for (const app of apps) await app.close();
  for (const pool of pools) await pool.end();
});

/** A new contoso member, signed in. */
async function member(role: Role, tenantIds: string[] | null = null): Promise<Caller> {
  const id = uuidv7();
  const email = `${id}@demo.test`;
  await h.db
    .insertInto('users')
    .values({ id, email, name: 'Member', password_hash: await hashPassword(DEMO_PASSWORD) })
    .execute();
  await h.db
    .insertInto('memberships')
    .values({
      id: uuidv7(),
      workspace_id: h.ids.contoso,
      user_id: id,
      role,
      tenant_ids: tenantIds,
    })
    .execute();
  return await h.login(email);
}

async function tokenCaller(role: Role = 'readonly'): Promise<Caller & { id: string }> {
  const res = await call(owner, 'POST', '/api/workspaces/contoso/tokens', {
    name: `t-${uuidv7()}`,
    role,
  });
  expect(res.status, res.body).toBe(201);
  const { id, token } = JSON.parse(res.body) as { id: string; token: string };
  return { id, name: 'token', headers: { authorization: `Bearer ${token}` } };
}

async function call(caller: Caller, method: string, path: string, body?: object) {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { ...caller.headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.text() };
}

/** An open stream, ready (its `ready` event came). */
async function stream(at: string, caller: Caller, path = '/api/stream?workspace=contoso') {
  const opened = await openStream(`${at}${path}`, caller.headers);
  streams.add(opened);
  expect(opened.status, opened.body).toBe(200);
  await until(() => opened.events.some((e) => e.event === 'ready'), { what: 'ready' });
  return opened;
}

const ended = (s: SseStream, what: string) => until(() => s.ended, { what: `${what}: its end` });

const sawRun = (s: SseStream, id: string) =>
  s.events.some((e) => e.event === 'run' && e.data.includes(id));

async function startRun(tag: string): Promise<string> {
  const res = await call(owner, 'POST', '/api/workspaces/contoso/operations', {
    type: 'demo.sleep',
    tenantId: h.ids.dev,
    input: { seconds: 600, tag },
  });
  expect(res.status, res.body).toBe(202);
  return (JSON.parse(res.body) as { run: { id: string } }).run.id;
}

describe('the heartbeat re-checks the caller (changes no NOTIFY announces)', () => {
  it('ends the stream of a member removed, a token revoked, a user disabled, a session ended, a restriction changed', async () => {
    const removed = await member('operator');
    const disabled = await member('operator');
    const loggedOut = await member('operator');
    const narrowed = await member('manager');
    const bystander = await member('operator');
    const token = await tokenCaller();
    const streamOf = {
      removed: await stream(apiUrl, removed),
      disabled: await stream(apiUrl, disabled),
      loggedOut: await stream(apiUrl, loggedOut),
      // Not one workspace but everything they may see: narrowing it changes what it shows.
      narrowed: await stream(apiUrl, narrowed, '/api/stream'),
      token: await stream(apiUrl, token),
    };
    const watching = await stream(apiUrl, bystander);

    await sql`delete from memberships where user_id = ${removed.userId}`.execute(h.db);
    await sql`update users set disabled_at = now() where id = ${disabled.userId}`.execute(h.db);
    await sql`delete from sessions where user_id = ${loggedOut.userId}`.execute(h.db);
    await sql`update memberships set tenant_ids = ${[h.ids.dev]}
      where user_id = ${narrowed.userId}`.execute(h.db);
    await sql`update api_tokens set revoked_at = now() where id = ${token.id}`.execute(h.db);

    for (const [what, s] of Object.entries(streamOf)) await ended(s, what);
    // The others' streams live on through the same heartbeats, and still carry runs.
    const id = await startRun('after the heartbeat ends');
    await until(() => sawRun(watching, id), { what: "the bystander's run event" });
    expect(watching.ended).toBe(false);
    for (const s of Object.values(streamOf)) expect(sawRun(s, id)).toBe(false);
  });

  it("ends an embedded stream once the host's resolver no longer vouches for its person", async () => {
    const person = await member('operator');
    vouched.set('host-person', person.userId as string);
    const hostStream = await stream(hostUrl, {
      name: 'host',
      headers: { 'x-host-user': 'host-person' },
    });
    vouched.delete('host-person');
    await ended(hostStream, 'the embedded stream');
  });

  it("ends an embedded stream after the host's sign-out, which the connect-time request cannot show", async () => {
    // The host's session is read once per request (as @fastify/session does): asked again with
    // the stream's own request, the resolver still vouches after the host signed the person out.
    const person = await member('operator');
    vouched.set('signed-out-person', person.userId as string);
    const hostStream = await stream(hostUrl, {
      name: 'host',
      headers: { 'x-host-user': 'signed-out-person', 'x-host-session': 'read-once' },
    });
    vouched.delete('signed-out-person');
    await ended(hostStream, 'the embedded stream of a signed-out person');
    const again = await openStream(`${hostUrl}/api/stream?workspace=contoso`, {
      'x-host-user': 'signed-out-person',
    });
    streams.add(again);
    expect(again.status).toBe(401);
  });
});

describe('a directory change ends the stream at once (NOTIFY; the heartbeat is an hour)', () => {
  it('ends the streams of a removed member, a revoked token, a disabled user, a logout and a new restriction', async () => {
    const removed = await member('operator');
    const disabled = await member('operator');
    const loggedOut = await member('operator');
    const narrowed = await member('manager');
    const bystander = await member('operator');
    const token = await tokenCaller();
    const before = await startRun('before the removal');
    const removedStream = await stream(quietUrl, removed);
    const streamOf = {
      disabled: await stream(quietUrl, disabled),
      loggedOut: await stream(quietUrl, loggedOut),
      narrowed: await stream(quietUrl, narrowed, '/api/stream'),
      token: await stream(quietUrl, token),
    };
    const watching = await stream(quietUrl, bystander);
    // Live until the removal: the replay of the probe, where such a stream carried every run.
    const during = await startRun('while a member');
    await until(() => sawRun(removedStream, during), { what: "the member's run event" });
    expect(sawRun(removedStream, before)).toBe(false);

    const removal = await call(
      owner,
      'DELETE',
      `/api/workspaces/contoso/members/${removed.userId}`,
    );
    expect(removal.status, removal.body).toBe(204);
    await ended(removedStream, 'the removed member');

    const revoked = await call(owner, 'DELETE', `/api/workspaces/contoso/tokens/${token.id}`);
    expect(revoked.status, revoked.body).toBe(204);
    await ended(streamOf.token, 'the revoked token');

    const email = await h.db
      .selectFrom('users')
      .select('email')
      .where('id', '=', disabled.userId as string)
      .executeTakeFirstOrThrow();
    await createDirectory({ db: h.db }).disableUser(email);
    await ended(streamOf.disabled, 'the disabled user');

    const logout = await call(loggedOut, 'POST', '/api/auth/logout');
    expect(logout.status, logout.body).toBe(200);
    await ended(streamOf.loggedOut, 'the session logged out');

    const { email: narrowedEmail } = await h.db
      .selectFrom('users')
      .select('email')
      .where('id', '=', narrowed.userId as string)
      .executeTakeFirstOrThrow();
    const restrict = await call(owner, 'PUT', `/api/workspaces/contoso/members/${narrowedEmail}`, {
      role: 'manager',
      tenantIds: [h.ids.dev],
    });
    expect(restrict.status, restrict.body).toBe(200);
    await ended(streamOf.narrowed, 'the restricted member');

    const after = await startRun('after the removal');
    await until(() => sawRun(watching, after), { what: "the bystander's run event" });
    expect(watching.ended).toBe(false);
    expect(sawRun(removedStream, after)).toBe(false);
    // A stream reconnecting as the narrowed member shows only their tenant now.
    const again = await stream(quietUrl, narrowed, '/api/stream');
    expect(again.ended).toBe(false);
  });
});

describe("a run's own stream (?run=), which follows its log", () => {
  it('ends for a member removed while following, by SQL (the heartbeat) or the directory (NOTIFY)', async () => {
    const runId = await startRun('log followed');
    const path = `/api/stream?run=${runId}`;
    const bySql = await member('operator');
    const byDirectory = await member('operator');
    const sqlStream = await stream(apiUrl, bySql, path);
    const directoryStream = await stream(quietUrl, byDirectory, path);
    const watching = await stream(quietUrl, owner, path);
    const line = async (message: string) =>
      await appendRunLog(
        h.db,
        { id: runId, attempt: 1 },
        [toLogLine('info', message, undefined, new Date())],
        { caps: DEFAULT_RUN_LOG_CAPS },
      );
    const logEvents = (s: SseStream) => s.events.filter((e) => e.event === 'log').length;

    await line('before the removals');
    for (const s of [sqlStream, directoryStream, watching])
      await until(() => logEvents(s) === 1, { what: 'the first log event' });

    await sql`delete from memberships where user_id = ${bySql.userId}`.execute(h.db);
    const removed = await call(
      owner,
      'DELETE',
      `/api/workspaces/contoso/members/${byDirectory.userId}`,
    );
    expect(removed.status, removed.body).toBe(204);
    await ended(sqlStream, 'the member removed in SQL');
    await ended(directoryStream, 'the member removed by the directory');

    await line('after the removals');
    await until(() => logEvents(watching) === 2, { what: "the owner's second log event" });
    expect(watching.ended).toBe(false);
    expect(logEvents(sqlStream)).toBe(1);
    expect(logEvents(directoryStream)).toBe(1);
    // Reconnecting is the run page's 404.
    const again = await openStream(`${apiUrl}${path}`, bySql.headers);
    streams.add(again);
    expect(again.status).toBe(404);
  });
});
