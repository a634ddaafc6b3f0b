import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/access/tokens.js';
import { freePort } from '../../src/db/embedded/recovery.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createDb, createPool, type Db } from '../../src/db/pool.js';
import { migrateQueue } from '../../src/execution/queue.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { catalog } from '../fixtures/fault-catalog.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { type OutageCluster, startOutageCluster } from '../support/outage-cluster.js';
import { eventsNamed, openStream } from '../support/sse.js';

/**
 * DESIGN §16 for real: a PostgreSQL that this file owns is stopped (fast shutdown, or SIGQUIT — a
 * crash) under load while two `runwarden worker` processes and one `runwarden serve` run against
 * it. `fault.work` beats every 2 s, so its heartbeat-loss window is 6 s: a 3 s outage is short, a
 * 10 s one long. Every handler that succeeded while its worker stayed alive must end `succeeded`;
 * nothing stays non-terminal; the workers come back to full concurrency without a restart; the
 * API answers no 500; the live stream says `resync` once it listens again.
 */

const CONCURRENCY = 5;
const registry = new OperationRegistry(catalog);
let cluster: OutageCluster;
let db: Db;
let runs: RunService;
let scope: Scope;
let token: string;
let apiUrl: string;
const workers: CliProcess[] = [];
let serve: CliProcess;

const env = () => ({
  DATABASE_URL: cluster.url,
  RUNWARDEN_CONFIG: 'test/fixtures/fault-catalog.ts',
  RUNWARDEN_RECONCILE_INTERVAL_SECONDS: '1',
});

function spawnWorker(): CliProcess {
  const cli = spawnCli(['worker', '--concurrency', String(CONCURRENCY)], env());
  workers.push(cli);
  return cli;
}

beforeAll(async () => {
  cluster = await startOutageCluster();
  const pool = createPool(cluster.url, { max: 4 });
  db = createDb(pool);
  await migrateToLatest(db);
  await migrateQueue(pool);
  runs = new RunService({ db });
  scope = await seedScope(db);
  token = (
    await createToken(db, {
      workspaceId: scope.workspaceId,
      name: 'outage test',
      role: 'owner',
      createdBy: scope.userId,
    })
  ).token;
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  serve = spawnCli(['serve'], { ...env(), PORT: String(port), HOST: '127.0.0.1' });
  const a = spawnWorker();
  const b = spawnWorker();
  await Promise.all([
    serve.waitFor(/Runwarden API listening/, 90_000),
    a.waitFor(/"msg":"worker started"/, 90_000),
    b.waitFor(/"msg":"worker started"/, 90_000),
  ]);
}, 180_000);

afterAll(async () => {
  if (process.env.FAULT_LOG_DIR) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${process.env.FAULT_LOG_DIR}/serve.log`, serve.output());
    for (const [i, w] of workers.entries())
      await writeFile(`${process.env.FAULT_LOG_DIR}/worker-${i}.log`, w.output());
  }
  const all = [serve, ...workers].filter((p) => p && p.child.exitCode === null);
  for (const p of all) p.child.kill('SIGTERM');
  await Promise.all(
    all.map((p) =>
      Promise.race([
        p.exited,
        new Promise((resolve) => setTimeout(resolve, 20_000)).then(() => p.child.kill('SIGKILL')),
      ]),
    ),
  );
  await db?.destroy();
  await cluster?.destroy();
}, 120_000);

async function startWork(count: number, ms: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { run } = await startRun(
      { db, runs, registry },
      {
        type: 'fault.work',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { ms, tag: `${tag}-${i}` },
        initiatorUserId: scope.userId,
      },
    );
    ids.push(run.id);
  }
  return ids;
}

async function statusesOf(ids: string[]) {
  return await db
    .selectFrom('operation_runs')
    .select(['id', 'status', 'outcome', 'worker_id', 'reconciliation'])
    .where('id', 'in', ids)
    .execute();
}

async function allTerminal(ids: string[], within: number) {
  return await until(
    async () => {
      const rows = await statusesOf(ids).catch(() => []);
      return rows.length === ids.length && rows.every((r) => r.status === 'completed')
        ? rows
        : undefined;
    },
    { within, every: 200, what: 'every run to end' },
  );
}

async function countRunning(ids: string[]): Promise<number> {
  return (await statusesOf(ids)).filter((r) => r.status === 'running').length;
}

/** Hits the API every 300 ms with a token (under its 1,200/min limit) until stopped; every status code is kept. */
function pollApi() {
  const codes: number[] = [];
  let active = true;
  const headers = { authorization: `Bearer ${token}` };
  const loop = (async () => {
    while (active) {
      for (const path of [
        '/api/health',
        `/api/workspaces/${scope.workspaceId}/operations`,
        '/api/notifications',
      ]) {
        const response = await fetch(`${apiUrl}${path}`, { headers }).catch(() => undefined);
        if (response) {
          codes.push(response.status);
          await response.arrayBuffer();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  return {
    codes,
    async stop() {
      active = false;
      await loop;
    },
  };
}

async function liveWorkerSlots(): Promise<number[]> {
  const rows = await db
    .selectFrom('workers')
    .select('live_slots')
    .where('stopped_at', 'is', null)
    .execute();
  return rows.map((r) => r.live_slots);
}

async function outage(mode: 'fast' | 'immediate', seconds: number): Promise<void> {
  await cluster.stop(mode);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000)); // the outage itself
  await cluster.start();
}

describe.each([
  ['fast', 3],
  ['immediate', 3],
  ['fast', 10],
  ['immediate', 10],
] as const)('a %s shutdown for %i s', (mode, seconds) => {
  it('loses no run, no result and no worker slot; the API says 503, the stream resyncs', async () => {
    const tag = `${mode}-${seconds}`;
    // Ten handlers mid-flight (all slots busy) that finish while the database is away, six queued.
    const inflight = await startWork(10, 1_500, `${tag}-a`);
    const queued = await startWork(6, 300, `${tag}-q`);
    await until(async () => (await countRunning(inflight)) === 10, {
      within: 20_000,
      what: 'ten runs running',
    });
    const api = pollApi();
    const stream = await openStream(`${apiUrl}/api/stream`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    const resyncsBefore = eventsNamed(stream, 'resync').length;
    await outage(mode, seconds);

    const ended = await allTerminal([...inflight, ...queued], 60_000);
    for (const run of ended) {
      expect(run, `run ${run.id}`).toMatchObject({ outcome: 'succeeded', reconciliation: null });
    }
    // Runs started after the outage all run, at full concurrency again: ten at once.
    let slots: number[] = [];
    await until(
      async () => {
        slots = await liveWorkerSlots();
        return slots.join() === '5,5';
      },
      { within: 15_000, what: 'both workers to record 5 live slots' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; they record ${slots.join()}`);
    });
    const after = await startWork(10, 3_000, `${tag}-b`);
    await until(async () => (await countRunning(after)) === 10, {
      within: 10_000,
      what: 'ten runs running at once after the outage',
    });
    for (const run of await allTerminal(after, 30_000)) expect(run.outcome).toBe('succeeded');

    // (test/http/outage.test.ts shows it comes once LISTEN is back, never while the database is down.)
    await until(() => eventsNamed(stream, 'resync').length > resyncsBefore, {
      within: 15_000,
      what: 'a resync on the stream once the database was back',
    });
    stream.close();
    await api.stop();
    expect(api.codes.filter((c) => c >= 500 && c !== 503)).toEqual([]);
    expect(api.codes).toContain(503);
    expect(api.codes.at(-1)).toBe(200);
  }, 150_000);
});

describe('a worker killed while the database is away', () => {
  it('its runs end reconciled with evidence, once, after the database returns; the others succeed', async () => {
    const ids = await startWork(10, 6_000, 'killed');
    await until(async () => (await countRunning(ids)) === 10, {
      within: 20_000,
      what: 'ten runs running',
    });
    const victim = workers[0];
    if (!victim) throw new Error('no worker');
    const victimId = (
      JSON.parse(await victim.waitFor(/"msg":"worker started"/)) as { workerId: string }
    ).workerId;
    const owned = (await statusesOf(ids)).filter((r) => r.worker_id === victimId).map((r) => r.id);
    expect(owned.length).toBeGreaterThan(0);

    await cluster.stop('fast');
    victim.child.kill('SIGKILL');
    await victim.exited;
    await new Promise((resolve) => setTimeout(resolve, 10_000)); // a long outage
    await cluster.start();

    const ended = await allTerminal(ids, 60_000);
    for (const run of ended) {
      if (owned.includes(run.id)) {
        expect(run, `killed worker's run ${run.id}`).toMatchObject({
          outcome: 'failed',
          reconciliation: {
            reasonCode: 'run.heartbeat_lost',
            evidence: { workerId: victimId },
          },
        });
      } else {
        expect(run, `surviving worker's run ${run.id}`).toMatchObject({
          outcome: 'succeeded',
          reconciliation: null,
        });
      }
    }
    const reconciledEvents = await db
      .selectFrom('run_events')
      .select(['run_id', sql<number>`count(*)::int`.as('n')])
      .where('run_id', 'in', owned)
      .where('kind', '=', 'reconciled')
      .groupBy('run_id')
      .execute();
    expect(reconciledEvents.map((e) => e.n)).toEqual(owned.map(() => 1));
    // The queue keeps no job for a run the reconciler ended.
    const jobs = await sql<{ n: number }>`
      select count(*)::int as n from graphile_worker._private_jobs where key = any(${owned}::text[])`.execute(
      db,
    );
    expect(jobs.rows[0]?.n).toBe(0);
  }, 150_000);
});
