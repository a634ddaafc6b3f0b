import type { Socket } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BACKLOG_BYTES, sseWriterOn } from '../../src/http/sse-writer.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { eventsNamed, openStream, type SseStream } from '../support/sse.js';

// A stream client that stops reading must not make the process buffer without bound: its
// response waits for `drain`, a bounded backlog is kept, and past the bound the client is sent
// `resync` once it reads again. Other clients are not held up.

const h = await apiHarness({ app: { streamHeartbeatMs: 200 } });
let base: string;
let owner: Caller;
const serverSockets = new Set<Socket>();
const streams: SseStream[] = [];

beforeAll(async () => {
  h.app.server.on('connection', (socket: Socket) => {
    serverSockets.add(socket);
    socket.on('close', () => serverSockets.delete(socket));
  });
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  owner = await h.login('owner@demo.test');
});

afterAll(() => {
  for (const s of streams) s.close();
});

async function open(): Promise<SseStream> {
  const stream = await openStream(`${base}/api/stream?workspace=contoso`, owner.headers);
  streams.push(stream);
  expect(stream.status).toBe(200);
  await until(() => eventsNamed(stream, 'ready').length, { what: 'ready' });
  return stream;
}

/** Runs whose every change is a ~7 KB event (a failure list), so a few MB add up fast. */
async function bulkyRuns(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await h.request(owner, {
      method: 'POST',
      url: '/api/workspaces/contoso/operations',
      payload: { type: 'demo.sleep', tenantId: h.ids.prod, input: { seconds: 600, tag: `bp${i}` } },
    });
    expect(res.statusCode, res.body).toBe(202);
    ids.push((res.json() as { run: { id: string } }).run.id);
  }
  const failures = Array.from({ length: 20 }, (_, i) => ({
    code: `item_${i}`,
    message: 'x'.repeat(300),
  }));
  await sql`update operation_runs set failures = ${JSON.stringify(failures)}::jsonb
    where id = any(${ids}::uuid[])`.execute(h.db);
  return ids;
}

const progressOf = (stream: SseStream, id: string) =>
  eventsNamed(stream, 'run')
    .map(
      (e) => (JSON.parse(e.data) as { run: { id: string; progress: { processed: number } } }).run,
    )
    .filter((run) => run.id === id)
    .map((run) => run.progress?.processed ?? -1);

describe('GET /api/stream — a client that stops reading', () => {
  it('holds a bounded amount for it, keeps other clients live, and sends it resync when it reads again', async () => {
    const ids = await bulkyRuns(24);
    const healthy = await open();
    const stalled = await open();
    const socket = [...serverSockets].find((s) => s.remotePort === stalled.localPort);
    expect(socket, 'the stalled client’s server-side socket').toBeDefined();
    stalled.pause();

    // 24 runs × 64 rounds × ~7 KB ≈ 10 MB for each client: past the kernel's socket buffers.
    const rounds = 64;
    let worst = 0;
    const sample = () => {
      const held =
        (socket?.writableLength ?? 0) + (sseWriterOn(socket as Socket)?.pressure.backlogBytes ?? 0);
      worst = Math.max(worst, held);
    };
    for (let round = 1; round <= rounds; round++) {
      await sql`update operation_runs set progress_processed = ${round}, progress_total = ${rounds}
        where id = any(${ids}::uuid[])`.execute(h.db);
      sample();
    }
    // The reading client gets every run's last change while the other is stalled.
    await until(
      () => {
        sample();
        return ids.every((id) => progressOf(healthy, id).includes(rounds));
      },
      { within: 20_000, what: 'the reading client to get the last round' },
    );
    sample();

    const bound = MAX_BACKLOG_BYTES + 256 * 1024; // the backlog, plus one write past the high-water mark
    expect(worst, `bytes held for the stalled client: ${worst}`).toBeLessThan(bound);
    const pressure = sseWriterOn(socket as Socket)?.pressure;
    expect(pressure?.overflows).toBeGreaterThanOrEqual(1);
    expect(pressure?.peakBytes).toBeLessThan(bound);
    expect(eventsNamed(stalled, 'resync')).toEqual([]);
    expect(eventsNamed(healthy, 'resync'), 'the reading client is never cut off').toEqual([]);

    // Reading again: what the kernel held arrives, then `resync`, then live events again.
    stalled.resume();
    await until(() => eventsNamed(stalled, 'resync').length, {
      within: 20_000,
      what: 'resync after the stalled client drained',
    });
    const last = ids[0] as string;
    await sql`update operation_runs set progress_processed = 999 where id = ${last}`.execute(h.db);
    await until(() => progressOf(stalled, last).includes(999), {
      within: 5_000,
      what: 'a live event after the resync',
    });
    const resyncAt = stalled.events.findIndex((e) => e.event === 'resync');
    const liveAt = stalled.events.findLastIndex((e) => e.event === 'run');
    expect(liveAt).toBeGreaterThan(resyncAt);
    expect(healthy.ended || stalled.ended).toBe(false);
  });
});
