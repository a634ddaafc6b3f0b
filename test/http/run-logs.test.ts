import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogLevel, toLogLine } from '../../src/domain/run-log-lines.js';
import { appendRunLog } from '../../src/runs/run-logs.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { openStream, type SseStream } from '../support/sse.js';

// A run's log over real HTTP (DESIGN §11, §18): read by whoever may see the run (the same 404 as
// its page otherwise), paged with `after` and filtered by the lowest level; external runs post
// lines with an API token of their workspace; a stream about the run announces each batch.

const CAPS = { maxLines: 6, maxBytes: 1024 * 1024 };
const h = await apiHarness({ app: { runLogCaps: CAPS } });
let owner: Caller;
let readonly: Caller;
let outsider: Caller;
let restricted: Caller;
let contosoToken: Caller;
let fabrikamToken: Caller;
let base: string;
const streams: SseStream[] = [];

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  readonly = await h.login('readonly@demo.test');
  outsider = await h.login('outsider@demo.test');
  restricted = await h.login('restricted@demo.test');
  contosoToken = await tokenOf(owner, 'contoso');
  fabrikamToken = await tokenOf(outsider, 'fabrikam');
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => {
  for (const s of streams) s.close();
});

async function tokenOf(caller: Caller, ws: string): Promise<Caller> {
  const created = await h.request(caller, {
    method: 'POST',
    url: `/api/workspaces/${ws}/tokens`,
    payload: { name: `reporter-${ws}`, role: 'operator' },
  });
  expect(created.statusCode, created.body).toBe(201);
  return { name: ws, headers: { authorization: `Bearer ${created.json().token}` } };
}

async function start(type: string, tenantId: string, input: Record<string, unknown>) {
  const res = await h.request(owner, {
    method: 'POST',
    url: '/api/workspaces/contoso/operations',
    payload: { type, tenantId, input },
  });
  expect(res.statusCode, res.body).toBe(202);
  return res.json().run as { id: string; attempt: number };
}

/** What a worker's attempt writes: the log module itself, as the wrapper calls it. */
async function write(runId: string, attempt: number, lines: Array<[LogLevel, string]>) {
  const at = new Date();
  await appendRunLog(
    h.db,
    { id: runId, attempt },
    lines.map(([level, message]) => toLogLine(level, message, undefined, at)),
    { caps: CAPS },
  );
}

const read = (caller: Caller | undefined, id: string, query = '') =>
  h.request(caller, { method: 'GET', url: `/api/operations/${id}/logs${query}` });

describe('GET /api/operations/:id/logs', () => {
  it('pages in seq order with `after`, across attempts, and filters by the lowest level', async () => {
    const run = await start('policy.sync_one', h.ids.prod, { policyId: 'p-page' });
    await write(run.id, 1, [
      ['debug', 'connecting'],
      ['info', 'fetched 10 policies'],
      ['error', 'graph answered 503'],
    ]);
    await write(run.id, 2, [
      ['info', 'fetched 10 policies'],
      ['warn', 'policy p7 skipped'],
    ]);

    const first = await read(owner, run.id, '?limit=2');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      items: [
        { seq: 1, attempt: 1, level: 'debug', message: 'connecting', fields: null },
        { seq: 2, attempt: 1, level: 'info', message: 'fetched 10 policies' },
      ],
      nextAfter: 2,
      truncated: false,
    });
    expect(Date.parse(first.json().items[0].at)).not.toBeNaN();
    const rest = await read(owner, run.id, `?after=${first.json().nextAfter}`);
    expect(
      rest.json().items.map((l: { seq: number; attempt: number }) => [l.seq, l.attempt]),
    ).toEqual([
      [3, 1],
      [4, 2],
      [5, 2],
    ]);
    expect(rest.json().nextAfter).toBe(5);
    // Nothing new: the same place again.
    expect((await read(owner, run.id, '?after=5')).json()).toEqual({
      items: [],
      nextAfter: 5,
      truncated: false,
    });

    const warnings = await read(readonly, run.id, '?level=warn');
    expect(warnings.statusCode).toBe(200);
    expect(warnings.json().items.map((l: { message: string }) => l.message)).toEqual([
      'graph answered 503',
      'policy p7 skipped',
    ]);
    const errorsOnly = await read(owner, run.id, '?level=error&after=3');
    // Past the lines the filter left out: the next read starts after the run's last line.
    expect(errorsOnly.json()).toEqual({ items: [], nextAfter: 5, truncated: false });
  });

  it('answers a run without lines with an empty page', async () => {
    const run = await start('policy.sync_one', h.ids.dev, { policyId: 'p-empty' });
    expect((await read(owner, run.id)).json()).toEqual({
      items: [],
      nextAfter: 0,
      truncated: false,
    });
  });

  it('is the same 404 as a missing run for another workspace and outside a restricted tenant', async () => {
    const run = await start('policy.sync_one', h.ids.prod, { policyId: 'p-404' });
    await write(run.id, 1, [['info', 'secret-ish business']]);
    const missing = await read(owner, '00000000-0000-7000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    for (const caller of [outsider, restricted, fabrikamToken]) {
      const res = await read(caller, run.id);
      expect(res.statusCode, caller.name).toBe(404);
      expect(res.json(), caller.name).toEqual(missing.json());
    }
    expect((await read(undefined, run.id)).statusCode).toBe(401);
    expect((await read(owner, run.id, '?level=loud')).statusCode).toBe(400);
    expect((await read(owner, run.id, '?limit=0')).statusCode).toBe(400);
  });
});

describe('POST /api/operations/:id/logs (external runs)', () => {
  const post = (caller: Caller | undefined, id: string, lines: unknown[]) =>
    h.request(caller, { method: 'POST', url: `/api/operations/${id}/logs`, payload: { lines } });

  it('stores the lines of an external run posted with its workspace token, sanitized', async () => {
    const run = await start('restore.execute', h.ids.prod, { restoreRunId: 'r-logs-1' });
    const res = await post(contosoToken, run.id, [
      { level: 'info', message: 'restoring for jane@example.com', fields: { token: 'abc', n: 1 } },
      { level: 'warn', message: 'retrying with password=hunter2' },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ kept: 2, dropped: 0, lastSeq: 2 });
    const page = (await read(owner, run.id)).json();
    expect(page.items).toMatchObject([
      {
        seq: 1,
        level: 'info',
        message: 'restoring for [email]',
        fields: { token: '[redacted]', n: 1 },
      },
      { seq: 2, level: 'warn', message: 'retrying with password=[redacted]', fields: null },
    ]);
  });

  it('is refused for another workspace’s token (404), a person’s session (403) and a queue run (409)', async () => {
    const run = await start('restore.execute', h.ids.prod, { restoreRunId: 'r-logs-2' });
    const line = [{ level: 'info', message: 'hello' }];
    expect((await post(fabrikamToken, run.id, line)).statusCode).toBe(404);
    expect((await post(owner, run.id, line)).statusCode).toBe(403);
    const queued = await start('policy.sync_one', h.ids.prod, { policyId: 'p-409' });
    const refused = await post(contosoToken, queued.id, line);
    expect(refused.statusCode).toBe(409);
    const count = await h.db
      .selectFrom('run_log_lines')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('run_id', 'in', [run.id, queued.id])
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('keeps the cap: past it, one line counting every dropped line, and `truncated`', async () => {
    const run = await start('restore.execute', h.ids.prod, { restoreRunId: 'r-logs-3' });
    const lines = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ level: 'info', message: `line ${from + i}` }));
    expect((await post(contosoToken, run.id, lines(1, 4))).json()).toEqual({
      kept: 4,
      dropped: 0,
      lastSeq: 4,
    });
    expect((await post(contosoToken, run.id, lines(5, 5))).json()).toEqual({
      kept: 2,
      dropped: 3,
      lastSeq: 7,
    });
    // More drops: the one dropped line moves to the end with the current count.
    expect((await post(contosoToken, run.id, lines(10, 2))).json()).toEqual({
      kept: 0,
      dropped: 5,
      lastSeq: 8,
    });
    const page = (await read(owner, run.id)).json();
    expect(page.truncated).toBe(true);
    expect(page.items.map((l: { seq: number; message: string }) => [l.seq, l.message])).toEqual([
      [1, 'line 1'],
      [2, 'line 2'],
      [3, 'line 3'],
      [4, 'line 4'],
      [5, 'line 5'],
      [6, 'line 6'],
      [8, '5 lines dropped: a run keeps at most 6 log lines and 1 MiB'],
    ]);
    // A reader that had seen the first dropped line (seq 7) finds the current one after it.
    expect((await read(owner, run.id, '?after=7')).json().items).toMatchObject([
      { seq: 8, level: 'warn', fields: { dropped: 5 } },
    ]);
  });
});

describe('following a run’s log live', () => {
  it('a stream about the run announces each batch; the page reads on with `after`', async () => {
    const run = await start('restore.execute', h.ids.prod, { restoreRunId: 'r-logs-4' });
    const stream = await openStream(`${base}/api/stream?run=${run.id}`, owner.headers);
    streams.push(stream);
    expect(stream.status).toBe(200);
    await until(() => stream.events.some((e) => e.event === 'ready'), { what: 'ready' });
    const res = await h.request(contosoToken, {
      method: 'POST',
      url: `/api/operations/${run.id}/logs`,
      payload: { lines: [{ level: 'info', message: 'step 1' }] },
    });
    expect(res.statusCode).toBe(200);
    const event = await until(() => stream.events.find((e) => e.event === 'log'), {
      what: 'a log event',
    });
    expect(JSON.parse(event.data)).toEqual({ runId: run.id, seq: 1 });
    expect(event.id).toBeUndefined(); // not a resume point: the page reads on with `after`
    const next = (await read(owner, run.id, '?after=0')).json();
    expect(next.items.map((l: { message: string }) => l.message)).toEqual(['step 1']);
    // A batch of another run is not announced on this stream.
    const other = await start('restore.execute', h.ids.prod, { restoreRunId: 'r-logs-5' });
    await write(other.id, 1, [['info', 'elsewhere']]);
    await write(run.id, 1, [['info', 'step 2']]);
    await until(() => stream.events.filter((e) => e.event === 'log').length === 2, {
      what: 'the second log event',
    });
    const logs = stream.events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data));
    expect(logs).toEqual([
      { runId: run.id, seq: 1 },
      { runId: run.id, seq: 2 },
    ]);
  });

  it('is the same 404 as the run page for a caller who may not see the run', async () => {
    const run = await start('policy.sync_one', h.ids.prod, { policyId: 'p-stream-404' });
    for (const caller of [outsider, restricted]) {
      const stream = await openStream(`${base}/api/stream?run=${run.id}`, caller.headers);
      streams.push(stream);
      expect(stream.status, caller.name).toBe(404);
    }
  });
});
