import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { type RunView, RunViewSchema } from '../../src/http/schemas.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { openStream as openSse, type SseStream } from '../support/sse.js';
import { quietLogger } from '../support/worker.js';

// GET /api/stream over a REAL listening socket (inject cannot stream), DESIGN §11: run changes
// the caller may see, heartbeats, Last-Event-ID resume, and one LISTEN connection per process.

const h = await apiHarness({ app: { streamHeartbeatMs: 200 } });
let base: string;
let owner: Caller;
let restricted: Caller;
let outsider: Caller;

const streams = new Set<SseStream>();

/** A stream as `caller` (over a real socket, see test/support/sse.ts), closed by `closeAll()`. */
async function openStream(
  caller: Caller | undefined,
  path: string,
  headers: Record<string, string> = {},
  at: string = base,
): Promise<SseStream> {
  const stream = await openSse(`${at}${path}`, { ...caller?.headers, ...headers });
  streams.add(stream);
  const close = stream.close;
  stream.close = () => {
    streams.delete(stream);
    close();
  };
  return stream;
}

function closeAll(): void {
  for (const stream of [...streams]) stream.close();
}

/** The `run` events of a stream, decoded, with their numeric ids. */
function runEvents(stream: SseStream): Array<{ seq: number; run: RunView }> {
  return stream.events
    .filter((e) => e.event === 'run')
    .map((e) => ({ seq: Number(e.id), run: (JSON.parse(e.data) as { run: RunView }).run }));
}

const sawRun = (stream: SseStream, id: string, status?: RunView['status']) =>
  runEvents(stream).find((e) => e.run.id === id && (!status || e.run.status === status));

async function whenReady(stream: SseStream): Promise<void> {
  expect(stream.status).toBe(200);
  await until(() => stream.events.some((e) => e.event === 'ready'), { what: 'ready event' });
}

async function startSleep(caller: Caller, tenantId: string, tag: string): Promise<string> {
  const res = await h.request(caller, {
    method: 'POST',
    url: '/api/workspaces/contoso/operations',
    payload: { type: 'demo.sleep', tenantId, input: { seconds: 600, tag } },
  });
  expect(res.statusCode, res.body).toBe(202);
  return (res.json() as { run: { id: string } }).run.id;
}

async function cancel(caller: Caller, id: string): Promise<void> {
  const res = await h.request(caller, { method: 'POST', url: `/api/operations/${id}/cancel` });
  expect(res.statusCode, res.body).toBe(200);
}

const listenConnections = async () => {
  const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
    where datname = current_database() and query ilike 'listen%'`.execute(h.db);
  return Number(rows[0]?.n ?? -1);
};

beforeAll(async () => {
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  owner = await h.login('owner@demo.test');
  restricted = await h.login('restricted@demo.test');
  outsider = await h.login('outsider@demo.test');
});

// Runs before the harness's app.close(): no open socket may hold the server up.
afterAll(() => closeAll());

describe('GET /api/stream — who may connect', () => {
  it('answers an anonymous caller 401 with the JSON error shape', async () => {
    const res = await openStream(undefined, '/api/stream');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'unauthenticated' } });
  });

  it('answers 404 for a workspace the caller is not a member of, as for one that does not exist', async () => {
    const foreign = await openStream(outsider, '/api/stream?workspace=contoso');
    expect(foreign.status).toBe(404);
    expect(foreign.headers['content-type']).toMatch(/^application\/json/);
    const missing = await openStream(outsider, '/api/stream?workspace=no-such-workspace');
    expect(missing.status).toBe(404);
    const shape = (body: string) => JSON.parse(body) as { error: { code: string } };
    expect(shape(foreign.body)).toEqual(shape(missing.body));
    expect(shape(foreign.body).error.code).toBe('not_found');
  });

  it('answers 400 (not a stream, not a 500) for a malformed Last-Event-ID', async () => {
    const res = await openStream(owner, '/api/stream', { 'last-event-id': 'not-a-number' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: expect.any(String) } });
  });
});

describe('GET /api/stream — run events', () => {
  it('is an event stream that opens with `ready` naming the workspaces it covers', async () => {
    const stream = await openStream(owner, '/api/stream?workspace=contoso');
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['cache-control']).toMatch(/no-cache/);
    await whenReady(stream);
    const ready = stream.events.find((e) => e.event === 'ready');
    expect(JSON.parse(ready?.data ?? '{}')).toEqual({ workspaces: [h.ids.contoso] });
    stream.close();
  });

  it('pushes a started run, its progress and its cancellation, each with its truth', async () => {
    const stream = await openStream(owner, '/api/stream?workspace=contoso');
    await whenReady(stream);

    const id = await startSleep(owner, h.ids.prod, 'pushed');
    const queued = await until(() => sawRun(stream, id, 'queued'), {
      within: 3_000,
      what: 'the event of the started run',
    });
    expect(RunViewSchema.safeParse(queued.run).success).toBe(true);
    expect(queued.run).toMatchObject({
      id,
      workspaceId: h.ids.contoso,
      tenantId: h.ids.prod,
      type: 'demo.sleep',
      status: 'queued',
      outcome: 'pending',
      // No worker process runs here: the truth says so.
      truth: { problemClass: 'none', headline: 'Queued — no worker is running.' },
    });
    expect(Number.isInteger(queued.seq) && queued.seq > 0).toBe(true);

    // A worker's transitions (RunService, not HTTP) are pushed just the same.
    expect((await h.runs.markRunning(id, { workerId: 'stream-test' })).moved).toBe(true);
    expect((await h.runs.reportProgress(id, { processed: 4, total: 10 })).moved).toBe(true);
    const progressed = await until(
      () => runEvents(stream).find((e) => e.run.id === id && e.run.progress?.processed === 4),
      { within: 3_000, what: 'the progress event' },
    );
    expect(progressed.run.truth.headline).toBe('4 / 10 processed (40%)');
    expect(progressed.run.truth.progress).toEqual({
      kind: 'bar',
      processed: 4,
      total: 10,
      percent: 40,
    });

    await cancel(owner, id);
    // Running: the cancel is cooperative (a flag), the handler then ends the run `cancelled`.
    await h.runs.complete(id, { outcome: 'cancelled' });
    const done = await until(() => sawRun(stream, id, 'completed'), {
      within: 3_000,
      what: 'the completed event',
    });
    expect(done.run.outcome).toBe('cancelled');
    expect(done.run.truth.headline).toMatch(/^Cancelled/);

    // The pushed run is the run every other response carries (one truth, every surface).
    const detail = await h.request(owner, { method: 'GET', url: `/api/operations/${id}` });
    expect(detail.statusCode).toBe(200);
    const canonical = detail.json() as RunView;
    expect(done.run.truth).toEqual(canonical.truth);
    expect(done.run.status).toBe(canonical.status);

    // Ids only grow, so a browser's Last-Event-ID always names the newest change it has.
    const seqs = runEvents(stream).map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    stream.close();
  });

  it('pushes the cancellation of a queued run started over HTTP (completed, cancelled)', async () => {
    const stream = await openStream(owner, '/api/stream?workspace=contoso');
    await whenReady(stream);
    const id = await startSleep(owner, h.ids.dev, 'cancel-queued');
    await until(() => sawRun(stream, id, 'queued'), { within: 3_000, what: 'started' });
    await cancel(owner, id);
    const done = await until(() => sawRun(stream, id, 'completed'), {
      within: 3_000,
      what: 'cancelled event',
    });
    expect(done.run).toMatchObject({ status: 'completed', outcome: 'cancelled' });
    stream.close();
  });
});

describe('GET /api/stream — each client sees only what it may', () => {
  it('a member restricted to contoso-dev gets the dev run and never the prod or workspace-wide run', async () => {
    const limited = await openStream(restricted, '/api/stream');
    const limitedByQuery = await openStream(restricted, '/api/stream?workspace=contoso');
    const everything = await openStream(owner, '/api/stream?workspace=contoso');
    await Promise.all([whenReady(limited), whenReady(limitedByQuery), whenReady(everything)]);

    // Invisible first, the visible sentinel last: had they been sent, they would have come first.
    const prod = await startSleep(owner, h.ids.prod, 'hidden-from-restricted');
    const wide = await h.request(owner, {
      method: 'POST',
      url: '/api/workspaces/contoso/operations',
      payload: { type: 'review_pack.generate', input: { scope: 'all' } },
    });
    expect(wide.statusCode, wide.body).toBe(202);
    const workspaceWide = (wide.json() as { run: RunView }).run;
    expect(workspaceWide.tenantId).toBeNull();
    const dev = await startSleep(owner, h.ids.dev, 'visible-to-restricted');

    for (const s of [limited, limitedByQuery]) {
      await until(() => sawRun(s, dev), { within: 3_000, what: 'the dev run (sentinel)' });
      const seen = runEvents(s).map((e) => e.run.id);
      expect(seen).not.toContain(prod);
      expect(seen).not.toContain(workspaceWide.id);
      expect(runEvents(s).every((e) => e.run.tenantId === h.ids.dev)).toBe(true);
    }
    // The owner's stream, on the same changes, got all three.
    await until(() => sawRun(everything, dev), { within: 3_000, what: 'owner: dev' });
    expect(sawRun(everything, prod)).toBeDefined();
    expect(sawRun(everything, workspaceWide.id)).toBeDefined();

    // The REST API agrees: the prod run does not exist for the restricted member.
    const detail = await h.request(restricted, { method: 'GET', url: `/api/operations/${prod}` });
    expect(detail.statusCode).toBe(404);
    limited.close();
    limitedByQuery.close();
    everything.close();
  });

  it("an outsider (fabrikam) gets nothing of contoso, only its own workspace's runs", async () => {
    const foreign = await openStream(outsider, '/api/stream');
    await whenReady(foreign);
    const ready = foreign.events.find((e) => e.event === 'ready');
    expect(JSON.parse(ready?.data ?? '{}')).toEqual({ workspaces: [h.ids.fabrikam] });

    const contosoRun = await startSleep(owner, h.ids.prod, 'hidden-from-outsider');
    await cancel(owner, contosoRun);
    const sentinel = await h.request(outsider, {
      method: 'POST',
      url: '/api/workspaces/fabrikam/operations',
      payload: {
        type: 'demo.sleep',
        tenantId: h.ids.fabrikamProd,
        input: { seconds: 600, tag: 'fabrikam-sentinel' },
      },
    });
    expect(sentinel.statusCode, sentinel.body).toBe(202);
    const sentinelId = (sentinel.json() as { run: RunView }).run.id;
    await until(() => sawRun(foreign, sentinelId), { within: 3_000, what: 'fabrikam sentinel' });
    expect(runEvents(foreign).every((e) => e.run.workspaceId === h.ids.fabrikam)).toBe(true);
    expect(runEvents(foreign).map((e) => e.run.id)).not.toContain(contosoRun);
    foreign.close();
  });
});

describe('GET /api/stream — heartbeats', () => {
  it('sends `: heartbeat` comment lines on an idle stream', async () => {
    const stream = await openStream(owner, '/api/stream');
    await whenReady(stream);
    await until(() => stream.comments.filter((c) => c === 'heartbeat').length >= 3, {
      within: 3_000,
      what: 'three heartbeats (200 ms apart)',
    });
    // Comments are not events: a browser never sees them.
    expect(stream.events.every((e) => e.event !== 'heartbeat')).toBe(true);
    stream.close();
  });
});

describe('GET /api/stream — resume with Last-Event-ID', () => {
  it('replays, as current runs, the changes a client missed while away', async () => {
    const first = await openStream(owner, '/api/stream?workspace=contoso');
    await whenReady(first);
    const kept = await startSleep(owner, h.ids.prod, 'resume-kept');
    await until(() => sawRun(first, kept), { within: 3_000, what: 'before the drop' });
    const lastId = first.lastEventId;
    expect(lastId).toBeDefined();
    first.close();

    // While away: a new run, its cancellation, and the cancellation of the run already seen.
    const missed = await startSleep(owner, h.ids.dev, 'resume-missed');
    await cancel(owner, missed);
    await cancel(owner, kept);
    const again = await openStream(owner, '/api/stream?workspace=contoso', {
      'last-event-id': String(lastId),
    });
    await whenReady(again);
    await until(() => sawRun(again, missed, 'completed') && sawRun(again, kept, 'completed'), {
      within: 3_000,
      what: 'the replayed changes',
    });
    const replayed = runEvents(again);
    // Only what came after Last-Event-ID, in order, each with its own id.
    expect(replayed.every((e) => e.seq > Number(lastId))).toBe(true);
    expect(replayed.map((e) => e.seq)).toEqual(
      [...replayed.map((e) => e.seq)].sort((a, b) => a - b),
    );
    expect(sawRun(again, missed, 'completed')?.run.outcome).toBe('cancelled');
    expect(sawRun(again, kept, 'completed')?.run.outcome).toBe('cancelled');
    // Replay comes before `ready` (ready means "you are caught up").
    const readyAt = again.events.findIndex((e) => e.event === 'ready');
    const lastReplayAt = again.events.findLastIndex((e) => e.event === 'run');
    expect(lastReplayAt).toBeLessThan(readyAt);
    expect(again.events.some((e) => e.event === 'resync')).toBe(false);
    again.close();
  });

  it('replays only what the resuming client may see', async () => {
    const first = await openStream(restricted, '/api/stream');
    await whenReady(first);
    const seenDev = await startSleep(owner, h.ids.dev, 'resume-scope-seen');
    await until(() => sawRun(first, seenDev), { within: 3_000, what: 'dev run' });
    const lastId = String(first.lastEventId);
    first.close();

    const prod = await startSleep(owner, h.ids.prod, 'resume-scope-hidden');
    const dev = await startSleep(owner, h.ids.dev, 'resume-scope-missed');
    const again = await openStream(restricted, '/api/stream', { 'last-event-id': lastId });
    await whenReady(again);
    await until(() => sawRun(again, dev), { within: 3_000, what: 'replayed dev run' });
    expect(runEvents(again).map((e) => e.run.id)).not.toContain(prod);
    again.close();
  });

  it('asks the client to `resync` when its Last-Event-ID is no longer known', async () => {
    const stream = await openStream(owner, '/api/stream?workspace=contoso', {
      'last-event-id': '0',
    });
    await until(() => stream.events.some((e) => e.event === 'resync'), {
      within: 3_000,
      what: 'resync',
    });
    await whenReady(stream);
    expect(runEvents(stream)).toEqual([]);
    stream.close();
  });
});

describe('GET /api/stream — one LISTEN connection per process', () => {
  it('holds exactly one LISTEN connection however many clients are connected', async () => {
    const five = await Promise.all([
      openStream(owner, '/api/stream'),
      openStream(owner, '/api/stream?workspace=contoso'),
      openStream(restricted, '/api/stream'),
      openStream(outsider, '/api/stream'),
      openStream(owner, '/api/stream'),
    ]);
    await Promise.all(five.map((s) => whenReady(s)));
    expect(await listenConnections()).toBe(1);
    // …and every one of them is live on that single connection.
    const id = await startSleep(owner, h.ids.dev, 'five-clients');
    const seers = [five[0], five[1], five[2], five[4]] as SseStream[];
    await until(() => seers.every((s) => sawRun(s, id)), {
      within: 3_000,
      what: 'the run on four streams',
    });
    expect(await listenConnections()).toBe(1);
    for (const s of five) s.close();
  });

  it('after losing its LISTEN connection, tells clients to resync and listens again (still one)', async () => {
    const stream = await openStream(owner, '/api/stream?workspace=contoso');
    await whenReady(stream);
    await sql`select pg_terminate_backend(pid, 5000) from pg_stat_activity
      where datname = current_database() and query ilike 'listen%'`.execute(h.db);
    await until(() => stream.events.some((e) => e.event === 'resync'), {
      within: 5_000,
      what: 'resync after the listener was lost',
    });
    await until(async () => (await listenConnections()) === 1, {
      within: 5_000,
      what: 'a new LISTEN connection',
    });
    const id = await startSleep(owner, h.ids.prod, 'after-relisten');
    await until(() => sawRun(stream, id), { within: 3_000, what: 'a change after re-listening' });
    expect(await listenConnections()).toBe(1);
    stream.close();
  });

  it('never replays across a gap: a change made while the listener was down is replayed or answered with resync', async () => {
    const first = await openStream(owner, '/api/stream?workspace=contoso');
    await whenReady(first);
    const before = await startSleep(owner, h.ids.prod, 'gap-before');
    await until(() => sawRun(first, before), { within: 3_000, what: 'before the gap' });
    const lastId = String(first.lastEventId);
    first.close();

    // Kill the listener and wait until its backend is gone, then change a run at once: the
    // process re-listens only after ~1 s, so nobody in this process hears this NOTIFY.
    await sql`select pg_terminate_backend(pid, 5000) from pg_stat_activity
      where datname = current_database() and query ilike 'listen%'`.execute(h.db);
    const inGap = await startSleep(owner, h.ids.prod, 'gap-during');
    await until(async () => (await listenConnections()) === 1, {
      within: 5_000,
      what: 'the process to listen again',
    });
    // A change after the gap, heard by the process and kept for replay.
    const after = await startSleep(owner, h.ids.prod, 'gap-after');
    const watcher = await openStream(owner, '/api/stream?workspace=contoso');
    await whenReady(watcher);
    await cancel(owner, after);
    await until(() => sawRun(watcher, after, 'completed'), { within: 3_000, what: 'post-gap' });
    watcher.close();

    const again = await openStream(owner, '/api/stream?workspace=contoso', {
      'last-event-id': lastId,
    });
    await whenReady(again);
    const resynced = again.events.some((e) => e.event === 'resync');
    const replayedGap = sawRun(again, inGap) !== undefined;
    // Silently replaying `after` without `inGap` would leave the client missing a run for good.
    expect(
      resynced || replayedGap,
      `replayed ${JSON.stringify(runEvents(again).map((e) => e.run.id))} without the run changed during the gap`,
    ).toBe(true);
    again.close();
  });
});

describe('GET /api/stream — shutdown', () => {
  it('app.close() ends open streams and releases its LISTEN connection without hanging', async () => {
    // A second app process on the same database, closed here (the harness closes its own).
    const pool = new pg.Pool({ connectionString: h.t.url, max: 2 });
    const app = await buildApp({
      db: h.db,
      pool,
      logger: quietLogger,
      registry: h.registry,
      runs: h.runs,
      options: { streamHeartbeatMs: 200, webRoot: false },
    });
    try {
      const at = await app.listen({ port: 0, host: '127.0.0.1' });
      const streamsOfIt = await Promise.all([
        openStream(owner, '/api/stream', {}, at),
        openStream(restricted, '/api/stream', {}, at),
      ]);
      await Promise.all(streamsOfIt.map((s) => whenReady(s)));
      expect(await listenConnections()).toBe(2); // the harness's app and this one
      const closed = app.close().then(() => 'closed' as const);
      const timeout = new Promise<'hung'>((resolve) => {
        setTimeout(() => resolve('hung'), 5_000).unref();
      });
      expect(await Promise.race([closed, timeout])).toBe('closed');
      await until(() => streamsOfIt.every((s) => s.ended), { what: 'streams ended by close' });
      await until(async () => (await listenConnections()) === 1, {
        what: 'the closed app stops listening',
      });
      for (const s of streamsOfIt) s.close();
    } finally {
      await app.close();
      await pool.end();
    }
  });
});
