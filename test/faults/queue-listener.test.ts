import { Writable } from 'node:stream';
import type { TaskList } from 'graphile-worker';
import { sql } from 'kysely';
import type pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createPool, type Db } from '../../src/db/pool.js';
import { queueSlots } from '../../src/execution/queue-runner.js';
import type { SlotKeeper } from '../../src/execution/queue-slots.js';
import { type BlackholeProxy, startBlackholeProxy } from '../support/blackhole-proxy.js';
import { freshDatabase, until } from '../support/db.js';

/**
 * DESIGN §16 for graphile-worker's own LISTEN connection (the one that wakes a slot the moment a
 * job is added). A worker's pool reaches PostgreSQL through a proxy of this file's; a failover
 * blackholes every open connection for good while new ones pass again after a while. graphile-
 * worker sends nothing on its listener, so on its own it keeps listening on the silent connection
 * forever (new jobs wait for the poll), and it backs off up to 60 s between reconnects. The poll
 * here is a minute long, so a job that runs within seconds of being added was woken by a LISTEN
 * that came back on a new connection.
 */

const POLL_MS = 60_000;
const t = await freshDatabase({ max: 4 });
let proxy: BlackholeProxy;
let pool: pg.Pool;
let db: Db;
let slots: SlotKeeper;
const lines: string[] = [];
const ran = new Set<string>();

beforeAll(async () => {
  const target = new URL(t.url);
  proxy = await startBlackholeProxy({ host: target.hostname, port: Number(target.port) });
  pool = createPool(proxy.through(t.url), {
    max: 6,
    timeouts: { connectMs: 1_000, statementMs: 2_000, idleInTransactionMs: 60_000 },
  });
  db = createDb(pool);
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const taskList: TaskList = {
    mark: async (payload) => {
      ran.add((payload as { key: string }).key);
    },
  };
  slots = queueSlots({
    db,
    pgPool: pool,
    tasks: { taskList, cronItems: [] },
    concurrency: 1,
    graceSeconds: 1,
    pollIntervalMs: POLL_MS,
    logger: pino({ level: 'info' }, sink),
    onJobFailed: () => undefined,
    onSlotCreated: () => undefined,
    onLiveChange: () => undefined,
    onFatal: () => undefined,
  });
  await slots.start();
}, 60_000);

afterAll(async () => {
  await slots?.stop().catch(() => undefined);
  await db?.destroy().catch(() => undefined);
  await proxy?.close();
});

/** Adds a job straight to the database (not through the proxy), as another process would. */
async function addJob(key: string): Promise<void> {
  await sql`select graphile_worker.add_job('mark', ${JSON.stringify({ key })}::json, job_key => ${key})`.execute(
    t.db,
  );
}

/** When the newest LISTEN for jobs began, as PostgreSQL sees it; undefined while there is none. */
async function newestListener(): Promise<Date | undefined> {
  const { rows } = await sql<{ started: Date | null }>`
    select max(backend_start) as started from pg_stat_activity
    where datname = current_database() and query like 'LISTEN "jobs:insert"%'`.execute(t.db);
  return rows[0]?.started ?? undefined;
}

describe("graphile-worker's LISTEN connection", () => {
  it('comes back on a new connection after a failover, without waiting out a backoff', async () => {
    await until(newestListener, { within: 20_000, what: 'the first LISTEN' });
    await addJob('before');
    await until(() => ran.has('before'), { within: 20_000, what: 'a job woken by LISTEN' });

    proxy.blackhole();
    const holed = new Date();
    // The outage lasts long enough for the silent listener to be probed and for graphile-worker's
    // own backoff to reach 20 s and more.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    proxy.heal();
    const healed = Date.now();
    const relistened = await until(
      async () => {
        const started = await newestListener();
        return started && started > holed ? started : undefined;
      },
      { within: 20_000, every: 100, what: 'a LISTEN on a connection newer than the blackhole' },
    );
    // Each job added nudges the slot; one whose fetch lands on a connection still going silent
    // is followed by the next.
    let n = 0;
    await until(
      async () => {
        await addJob(`after-${n++}`);
        return [...ran].some((key) => key.startsWith('after-'));
      },
      { within: 30_000, every: 2_000, what: 'a job added after the heal to run before the poll' },
    );
    expect(lines.some((l) => l.includes('did not answer within 5000 ms: reconnecting it'))).toBe(
      true,
    );
    expect(lines.some((l) => l.includes("the queue's LISTEN connection cannot connect"))).toBe(
      true,
    );
    console.info(
      `queue listener: listening again ${relistened.getTime() - healed} ms after the heal; ` +
        `${n} job(s) added until one ran (poll ${POLL_MS / 1000} s)`,
    );
  }, 120_000);

  it('stops connecting its listener once the worker stops, even while nothing answers', async () => {
    const warned = () => lines.filter((l) => l.includes('LISTEN connection cannot connect')).length;
    const before = warned();
    proxy.blackhole();
    await until(() => warned() > before, {
      within: 40_000,
      every: 100,
      what: 'the listener to be retrying its connect',
    });
    await slots.stop();
    const attempts = proxy.accepted();
    // Nothing may connect any more: the listener's retry (every second) is over with the worker.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(proxy.accepted()).toBe(attempts);
  }, 90_000);
});
