import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { startReconcilerLoop } from '../../src/lifecycle/reconciler.js';
import { RunService } from '../../src/runs/run-service.js';
import { catalog } from '../fixtures/fault-catalog.js';
import { type BlackholeProxy, startBlackholeProxy } from '../support/blackhole-proxy.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';

/**
 * DESIGN §16 "hung connections are faults too", on the worker side: `runwarden worker` reaches its
 * PostgreSQL through a proxy of this file's. A failover blackholes every open connection for good
 * while new ones pass at once: every job slot, heartbeat and write must come back on new
 * connections — no slot hangs on a connection that will never answer. And a SIGTERM while the
 * network is silent still ends the process: it does not wait forever for writes nobody answers.
 * The reconciler runs here, on a direct connection, so a heartbeat that never lands again would
 * fail runs `run.heartbeat_lost` (fault.work beats every 2 s: lost after 6 s).
 */

const CONCURRENCY = 4;
const GRACE_SECONDS = 2;
/** Generous bounds: the process must get there at all, not at a given speed. */
const RECOVERY_DEADLINE_MS = 60_000;
/** A blackhole of half fault.work's heartbeat-loss window (3 × 2 s). */
const SHORT_BLACKHOLE_MS = 3_000;
const EXIT_DEADLINE_MS = (GRACE_SECONDS + 10 + 20) * 1000;

const t = await freshDatabase({ max: 4 });
const registry = new OperationRegistry(catalog);
const runs = new RunService({ db: t.db });
let proxy: BlackholeProxy;
let scope: Scope;
let reconciler: { stop(): Promise<void> };
const workers: CliProcess[] = [];

beforeAll(async () => {
  scope = await seedScope(t.db);
  const target = new URL(t.url);
  proxy = await startBlackholeProxy({ host: target.hostname, port: Number(target.port) });
  reconciler = startReconcilerLoop({ db: t.db, runs, registry, logger: quietLogger }, 1);
}, 60_000);

afterAll(async () => {
  if (process.env.FAULT_LOG_DIR) {
    const { writeFile } = await import('node:fs/promises');
    for (const [i, w] of workers.entries())
      await writeFile(`${process.env.FAULT_LOG_DIR}/blackhole-worker-${i}.log`, w.output());
  }
  for (const w of workers)
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await reconciler?.stop();
  await proxy?.close();
});

async function startWorker(args: string[] = [], statementMs = 2_000): Promise<CliProcess> {
  const worker = spawnCli(['worker', '--concurrency', String(CONCURRENCY), ...args], {
    DATABASE_URL: proxy.through(t.url),
    RUNWARDEN_CONFIG: 'test/fixtures/fault-catalog.ts',
    RUNWARDEN_RECONCILE_INTERVAL_SECONDS: '1',
    RUNWARDEN_DB_CONNECT_TIMEOUT_MS: '1000',
    RUNWARDEN_DB_STATEMENT_TIMEOUT_MS: String(statementMs),
  });
  workers.push(worker);
  await worker.waitFor(/"msg":"worker started"/, 90_000);
  return worker;
}

async function startWork(count: number, ms: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { run } = await startRun(
      { db: t.db, runs, registry },
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
  return await t.db
    .selectFrom('operation_runs')
    .select(['id', 'status', 'outcome', 'reconciliation'])
    .where('id', 'in', ids)
    .execute();
}

async function allEnded(ids: string[]) {
  return await until(
    async () => {
      const rows = await statusesOf(ids);
      return rows.every((r) => r.status === 'completed') ? rows : undefined;
    },
    { within: RECOVERY_DEADLINE_MS, every: 200, what: 'every run to end' },
  );
}

async function workerRow(output: string) {
  const id = /"workerId":"([^"]+)"/.exec(output)?.[1];
  if (!id) throw new Error('no worker id in the output');
  return await t.db
    .selectFrom('workers')
    .select(['live_slots', 'last_seen_at', 'stopped_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

describe('a worker behind a blackholed database', () => {
  it('gets every slot, heartbeat and write back on new connections after a failover', async () => {
    const worker = await startWorker();
    // Every slot busy and more waiting: these connections are the ones that will go silent.
    const before = await startWork(8, 1_500, 'before');
    await until(
      async () => (await statusesOf(before)).filter((r) => r.status === 'running').length === 4,
      { within: 20_000, what: 'four runs running' },
    );

    proxy.blackhole();
    proxy.heal(); // a failover: the old sockets stay silent forever, new ones pass
    const healed = new Date();
    const after = await startWork(16, 200, 'after');
    // The heartbeat lands again, with every slot live.
    const row = await until(
      async () => {
        const r = await workerRow(worker.output());
        return r.live_slots === CONCURRENCY && r.last_seen_at > healed ? r : undefined;
      },
      { within: RECOVERY_DEADLINE_MS, every: 100, what: 'a heartbeat with every slot live' },
    );
    const beatBack = Date.now() - healed.getTime();
    expect(row.stopped_at).toBeNull();
    const ended = await allEnded([...before, ...after]);
    const allDone = Date.now() - healed.getTime();

    // The runs queued after the failover all ran to success: no slot hung, no heartbeat was lost.
    const afterRows = ended.filter((r) => after.includes(r.id));
    expect(afterRows.map((r) => [r.outcome, r.reconciliation])).toEqual(
      after.map(() => ['succeeded', null]),
    );
    // The slots really work: a second wave fills all four at once and succeeds.
    const wave = await startWork(8, 1_000, 'wave');
    await until(
      async () => (await statusesOf(wave)).filter((r) => r.status === 'running').length === 4,
      { within: RECOVERY_DEADLINE_MS, what: 'four runs running at once again' },
    );
    const waveRows = await allEnded(wave);
    expect(waveRows.map((r) => r.outcome)).toEqual(wave.map(() => 'succeeded'));
    expect(worker.child.exitCode).toBeNull();
    console.info(
      `worker failover: heartbeat with ${CONCURRENCY} live slots ${beatBack} ms after the heal; ` +
        `the ${before.length + after.length} runs ended ${allDone} ms after it; ` +
        `before-heal outcomes ${JSON.stringify(ended.filter((r) => before.includes(r.id)).map((r) => r.outcome ?? r.reconciliation))}`,
    );
    worker.child.kill('SIGTERM');
    await worker.exited;
  }, 240_000);

  it('fails no run when the blackhole is shorter than the heartbeat-loss window', async () => {
    const worker = await startWorker();
    const inflight = await startWork(CONCURRENCY, 9_000, 'short');
    await until(
      async () =>
        (await statusesOf(inflight)).filter((r) => r.status === 'running').length === CONCURRENCY,
      { within: 20_000, what: 'every slot running' },
    );
    proxy.blackhole();
    // Half of fault.work's 6 s heartbeat-loss window: nothing passes, not even new connections.
    await new Promise((resolve) => setTimeout(resolve, SHORT_BLACKHOLE_MS));
    proxy.heal();
    const ended = await allEnded(inflight);
    expect(ended.map((r) => [r.outcome, r.reconciliation])).toEqual(
      inflight.map(() => ['succeeded', null]),
    );
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill('SIGTERM');
    await worker.exited;
  }, 120_000);

  // With the default 30 s statement timeout, cleanups (a sweep on a silent connection) outlast the
  // bound, and the process ends at it anyway.
  it.each([2_000, 30_000])(
    'exits on SIGTERM within its grace + 10 s while the network is silent (statement timeout %i ms)',
    async (statementMs) => {
      const worker = await startWorker(['--shutdown-grace', String(GRACE_SECONDS)], statementMs);
      const inflight = await startWork(6, 30_000, 'sigterm');
      const running = await until(
        async () => {
          const rows = (await statusesOf(inflight)).filter((r) => r.status === 'running');
          return rows.length === CONCURRENCY ? rows.map((r) => r.id) : undefined;
        },
        { within: 20_000, what: 'four runs running' },
      );
      proxy.blackhole();
      const sent = Date.now();
      worker.child.kill('SIGTERM');
      const exit = await until(
        () =>
          worker.child.exitCode !== null || worker.child.signalCode !== null
            ? worker.child
            : undefined,
        { within: EXIT_DEADLINE_MS, every: 100, what: 'the worker to exit' },
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\noutput:\n${worker.output().slice(-4000)}`);
      });
      const exitedAfter = Date.now() - sent;
      proxy.heal();
      expect(worker.output()).toMatch(/worker stopping: no new jobs/);
      // It says why its runs were not handed back; the reconciler ends them (their heartbeat is gone,
      // here already during the blackhole: it outlasts the 6 s heartbeat-loss window).
      expect(worker.output()).toMatch(/runs not handed back in time|shutdown not finished/);
      const judged = await allEnded(running);
      expect(judged.map((r) => [r.outcome, r.reconciliation?.reasonCode])).toEqual(
        running.map(() => ['failed', 'run.heartbeat_lost']),
      );
      console.info(
        `worker SIGTERM during a blackhole (statement timeout ${statementMs} ms): exited (code ${exit.exitCode}, signal ${exit.signalCode}) ${exitedAfter} ms after the signal`,
      );
    },
    240_000,
  );
});
