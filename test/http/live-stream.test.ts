import http from 'node:http';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';

const h = await apiHarness({ app: { streamHeartbeatMs: 200 } });
let base: string;
let owner: Caller;
let restricted: Caller;
let outsider: Caller;
const open: SseClient[] = [];

interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

interface SseClient {
  status: number;
  events: SseEvent[];
  comments: string[];
  close(): void;
}

/** A minimal Server-Sent Events reader over a real socket (inject cannot stream). */
function connect(caller: Caller | undefined, path: string, headers: Record<string, string> = {}) {
  return new Promise<SseClient>((resolve, reject) => {
    const req = http.get(
      `${base}${path}`,
      { headers: { ...caller?.headers, ...headers } },
      (res) => {
        const client: SseClient = {
          status: res.statusCode ?? 0,
          events: [],
          comments: [],
          close: () => req.destroy(),
        };
        open.push(client);
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event: SseEvent = { event: 'message', data: '' };
            let isEvent = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) client.comments.push(line);
              else if (line.startsWith('id: ')) event.id = line.slice(4);
              else if (line.startsWith('event: ')) {
                event.event = line.slice(7);
                isEvent = true;
              } else if (line.startsWith('data: ')) event.data += line.slice(6);
            }
            if (isEvent) client.events.push(event);
            end = buffer.indexOf('\n\n');
          }
        });
        res.on('error', () => undefined);
        resolve(client);
      },
    );
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
  });
}

const runEvents = (client: SseClient) =>
  client.events
    .filter((e) => e.event === 'run')
    .map((e) => ({
      id: e.id,
      run: JSON.parse(e.data).run as {
        id: string;
        status: string;
        outcome: string;
        truth: { headline: string };
      },
    }));

async function start(caller: Caller, tenantId: string, tag: string) {
  const res = await h.request(caller, {
    method: 'POST',
    url: '/api/workspaces/contoso/operations',
    payload: { type: 'demo.sleep', tenantId, input: { seconds: 60, tag } },
  });
  expect(res.statusCode).toBe(202);
  return res.json().run.id as string;
}

beforeAll(async () => {
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  owner = await h.login('owner@demo.test');
  restricted = await h.login('restricted@demo.test');
  outsider = await h.login('outsider@demo.test');
});

afterAll(() => {
  for (const client of open) client.close();
});

describe('GET /api/stream (Server-Sent Events)', () => {
  it('refuses anonymous callers with 401 and hides a workspace from outsiders with 404', async () => {
    expect((await connect(undefined, '/api/stream')).status).toBe(401);
    expect((await connect(outsider, '/api/stream?workspace=contoso')).status).toBe(404);
  });

  it('pushes each change of a run the caller may see, with its truth', async () => {
    const stream = await connect(owner, '/api/stream?workspace=contoso');
    expect(stream.status).toBe(200);
    await until(() => stream.events.some((e) => e.event === 'ready'), { what: 'ready' });
    const id = await start(owner, h.ids.prod, 'pushed');
    const created = await until(() => runEvents(stream).find((e) => e.run.id === id), {
      what: 'created event',
    });
    expect(created.run.truth.headline).toBe('Queued — waiting for a worker.');
    expect(Number(created.id)).toBeGreaterThan(0);
    await h.request(owner, { method: 'POST', url: `/api/operations/${id}/cancel` });
    const cancelled = await until(
      () => runEvents(stream).find((e) => e.run.id === id && e.run.status === 'completed'),
      { what: 'cancelled event' },
    );
    expect(cancelled.run.outcome).toBe('cancelled');
    stream.close();
  });

  it('sends each client only the runs it may see', async () => {
    const limited = await connect(restricted, '/api/stream');
    const foreign = await connect(outsider, '/api/stream');
    await until(
      () =>
        limited.events.some((e) => e.event === 'ready') &&
        foreign.events.some((e) => e.event === 'ready'),
    );
    const hidden = await start(owner, h.ids.prod, 'hidden-from-restricted');
    const visible = await start(owner, h.ids.dev, 'visible-to-restricted');
    await until(() => runEvents(limited).some((e) => e.run.id === visible), {
      what: 'the dev run',
    });
    // The prod run committed first, so had it been sent it would have arrived before the dev run.
    expect(runEvents(limited).map((e) => e.run.id)).not.toContain(hidden);
    // The outsider's stream (fabrikam) gets nothing of contoso; a fabrikam sentinel proves it is live.
    const fabrikamOwner = outsider;
    const sentinel = await h.request(fabrikamOwner, {
      method: 'POST',
      url: '/api/workspaces/fabrikam/operations',
      payload: {
        type: 'demo.sleep',
        tenantId: h.ids.fabrikamProd,
        input: { seconds: 60, tag: 'sentinel' },
      },
    });
    await until(() => runEvents(foreign).some((e) => e.run.id === sentinel.json().run.id), {
      what: 'sentinel',
    });
    expect(runEvents(foreign).map((e) => e.run.id)).not.toContain(hidden);
    expect(runEvents(foreign).map((e) => e.run.id)).not.toContain(visible);
    limited.close();
    foreign.close();
  });

  it('keeps an idle stream alive with heartbeat comments', async () => {
    const stream = await connect(owner, '/api/stream');
    await until(() => stream.comments.filter((c) => c.startsWith(': heartbeat')).length >= 2, {
      what: 'heartbeats',
    });
    stream.close();
  });

  it('resumes from Last-Event-ID: replays what the client missed', async () => {
    const first = await connect(owner, '/api/stream?workspace=contoso');
    const before = await start(owner, h.ids.prod, 'before-drop');
    const seen = await until(() => runEvents(first).find((e) => e.run.id === before));
    first.close();
    const missed = await start(owner, h.ids.prod, 'while-away');
    await h.request(owner, { method: 'POST', url: `/api/operations/${missed}/cancel` });
    const again = await connect(owner, '/api/stream?workspace=contoso', {
      'last-event-id': String(seen.id),
    });
    const replayed = await until(
      () => runEvents(again).find((e) => e.run.id === missed && e.run.status === 'completed'),
      { what: 'replayed change' },
    );
    expect(replayed.run.outcome).toBe('cancelled');
    again.close();
    const unknown = await connect(owner, '/api/stream?workspace=contoso', { 'last-event-id': '0' });
    await until(() => unknown.events.some((e) => e.event === 'resync'), {
      what: 'resync for an id too old',
    });
    unknown.close();
  });

  it('holds ONE LISTEN connection per process, however many clients', async () => {
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => connect(owner, '/api/stream')),
    );
    await until(() => clients.every((c) => c.events.some((e) => e.event === 'ready')));
    const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
      where datname = current_database() and query ilike 'listen %'`.execute(h.db);
    expect(Number(rows[0]?.n)).toBe(1);
    for (const client of clients) client.close();
  });
});
