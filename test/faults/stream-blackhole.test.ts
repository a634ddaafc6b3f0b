import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { buildApp } from '../../src/http/app.js';
import { type BlackholeProxy, startBlackholeProxy } from '../support/blackhole-proxy.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { openStream, type SseStream } from '../support/sse.js';
import { quietLogger } from '../support/worker.js';

/**
 * DESIGN §16, hung connections: the live stream's one LISTEN connection reaches PostgreSQL through
 * a proxy of this file's that blackholes it (a failover that drops TCP: the open connection goes
 * silent for good, new ones pass once the network heals). A connection that only listens sends
 * nothing, so nothing ever failed it: the stream stayed open and silent, without `resync`. Now the
 * hub probes it, cuts it when it stays silent, listens again and tells its clients to resync.
 */

const h = await apiHarness();
let proxy: BlackholeProxy;
let pool: pg.Pool;
let app: FastifyInstance;
let base: string;
let owner: Caller;
const streams: SseStream[] = [];

beforeAll(async () => {
  const target = new URL(h.t.url);
  proxy = await startBlackholeProxy({ host: target.hostname, port: Number(target.port) });
  pool = createPool(proxy.through(h.t.url), {
    max: 2,
    timeouts: { connectMs: 500, statementMs: 2_000, idleInTransactionMs: 10_000 },
  });
  app = await buildApp({
    db: h.db,
    pool,
    logger: quietLogger,
    registry: h.registry,
    runs: h.runs,
    options: { loginPerMinute: 10_000, summaryCacheMs: 0, webRoot: false, streamProbeMs: 200 },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  owner = await h.login('owner@demo.test');
});

afterAll(async () => {
  for (const s of streams) s.close();
  await app?.close();
  await pool?.end();
  await proxy?.close();
});

async function startRun(tag: string): Promise<string> {
  const res = await h.request(owner, {
    method: 'POST',
    url: '/api/workspaces/contoso/operations',
    payload: { type: 'demo.sleep', tenantId: h.ids.prod, input: { seconds: 600, tag } },
  });
  expect(res.statusCode, res.body).toBe(202);
  return (res.json() as { run: { id: string } }).run.id;
}

const sawRun = (s: SseStream, id: string) =>
  s.events.some((e) => e.event === 'run' && e.data.includes(id));

describe('the live stream when its LISTEN connection goes silent', () => {
  it('resyncs its clients once the network is back, and pushes changes again', async () => {
    const stream = await openStream(`${base}/api/stream?workspace=contoso`, owner.headers);
    streams.push(stream);
    expect(stream.status, stream.body).toBe(200);
    await until(() => stream.events.some((e) => e.event === 'ready'), { what: 'ready' });
    const before = await startRun('before');
    await until(() => sawRun(stream, before), { what: 'the run started before the fault' });

    proxy.blackhole();
    const during = await startRun('during');
    proxy.heal(); // new connections pass; the listening one stays silent forever

    await until(() => stream.events.some((e) => e.event === 'resync'), {
      within: 15_000,
      what: 'a resync after the silent LISTEN connection was replaced',
    });
    expect(stream.ended).toBe(false);
    const after = await startRun('after');
    await until(() => sawRun(stream, after), {
      within: 10_000,
      what: 'a change pushed through the new LISTEN connection',
    });
    // The change made while nothing was heard came as the resync, not as an event.
    expect(sawRun(stream, during)).toBe(false);
  });
});
