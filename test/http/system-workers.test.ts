import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunwardenClient } from '../../src/client/index.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { markWorkerStopped, registerWorker } from '../../src/execution/worker-registration.js';
import { reconcile, startReconcilerLoop } from '../../src/lifecycle/reconciler.js';
import { packageVersion } from '../../src/version.js';
import { catalog } from '../fixtures/fast-catalog.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { until } from '../support/db.js';
import { quietLogger } from '../support/worker.js';
import { flowHarness } from './flow-support.js';

// DESIGN §11, §18: platform staff see every worker process with its release, types, slots and
// running runs, and whether it is alive, silent (its beats stopped landing) or stopped (it
// stopped, or the reconciler declared it dead); a stopped one drops off after a day.

const h = await flowHarness();
let staff: RunwardenClient;
let owner: RunwardenClient;
let ownerId: string;
const children: CliProcess[] = [];
let n = 0;

beforeAll(async () => {
  staff = h.as(await h.login('platform@demo.test'));
  owner = h.as(await h.login('owner@demo.test'));
  ownerId = await h.userId('owner@demo.test');
});
afterEach(async () => {
  for (const cli of children.splice(0)) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
});

const workers = async () => {
  const res = await staff.GET('/api/system/workers');
  expect(res.response.status).toBe(200);
  return res.data?.items ?? [];
};
const workerView = async (id: string) => (await workers()).find((w) => w.id === id);

/** A worker row as a process registers it, started `minutesAgo`. */
async function worker(id: string, minutesAgo: number, heartbeatMs = 1_000) {
  await registerWorker(h.db, { id, concurrency: 4, heartbeatMs, types: ['demo.sleep'] });
  const startedAt = new Date(Date.now() - minutesAgo * 60_000);
  await h.db
    .updateTable('workers')
    .set({ started_at: startedAt, live_slots: 4 })
    .where('id', '=', id)
    .execute();
}
const lastSeen = (id: string, msAgo: number) =>
  h.db
    .updateTable('workers')
    .set({ last_seen_at: new Date(Date.now() - msAgo) })
    .where('id', '=', id)
    .execute();

/** A demo.sleep run that `workerId` has started. */
async function running(workerId: string) {
  const { run } = await startRun(
    { db: h.db, runs: h.runs, registry: h.registry },
    {
      type: 'demo.sleep',
      workspaceId: h.ids.contoso,
      tenantId: h.ids.prod,
      input: { seconds: 60, tag: `w${++n}` },
      initiatorUserId: ownerId,
    },
  );
  expect((await h.runs.markRunning(run.id, { workerId })).moved).toBe(true);
  return run.id;
}

describe('the workers platform staff see', () => {
  it('lists each worker newest first with its facts, running runs (50 named) and state', async () => {
    await worker('w-busy', 1, 60_000); // beats every minute: alive however slow the setup
    await worker('w-silent', 2);
    await worker('w-legacy', 3);
    await worker('w-stopped', 4);
    await worker('w-gone', 5);
    const busy: string[] = [];
    for (let i = 0; i < 51; i++) busy.push(await running('w-busy'));
    const stranded = await running('w-silent');
    await lastSeen('w-silent', 3_500); // 3 beats of 1 s and more
    // A row from before migration 0016: no beat interval, read as 5 s.
    await h.db
      .updateTable('workers')
      .set({ heartbeat_ms: null })
      .where('id', '=', 'w-legacy')
      .execute();
    await lastSeen('w-legacy', 6_000); // silent at 1 s beats, alive at 5 s
    await markWorkerStopped(h.db, 'w-stopped');
    await markWorkerStopped(h.db, 'w-gone');
    await h.db
      .updateTable('workers')
      .set({ stopped_at: new Date(Date.now() - 25 * 3600_000) })
      .where('id', '=', 'w-gone')
      .execute();

    const items = await workers();
    expect(items.map((w) => `${w.id}:${w.state}`)).toEqual([
      'w-busy:alive',
      'w-silent:silent',
      'w-legacy:alive',
      'w-stopped:stopped',
    ]);
    const [first, second] = items;
    expect(first).toMatchObject({
      host: hostname(),
      pid: process.pid,
      version: packageVersion(),
      types: ['demo.sleep'],
      concurrency: 4,
      liveSlots: 4,
      heartbeatMs: 60_000,
      stoppedAt: null,
      running: { count: 51 },
    });
    expect(Date.parse(first?.startedAt ?? '')).toBeLessThan(Date.parse(first?.lastSeenAt ?? ''));
    // The first 50 by start, each with its system page.
    expect(first?.running.runs).toEqual(
      busy.slice(0, 50).map((id) => ({ id, type: 'demo.sleep', link: `/system/ops/runs/${id}` })),
    );
    expect(second?.running).toEqual({
      count: 1,
      runs: [{ id: stranded, type: 'demo.sleep', link: `/system/ops/runs/${stranded}` }],
    });
    expect(items[2]?.heartbeatMs).toBeNull();
    expect(items[3]).toMatchObject({ liveSlots: 0, stoppedAt: expect.any(String) });
  });

  it('a silent worker is stopped once the reconciler declares it dead; a live one is left alone', async () => {
    await reconcile({ db: h.db, runs: h.runs, registry: h.registry, logger: quietLogger });
    expect((await workerView('w-silent'))?.state).toBe('stopped');
    expect((await workerView('w-busy'))?.state).toBe('alive');
    expect((await workerView('w-legacy'))?.state).toBe('alive');
  });

  it('is not there for a workspace owner who is not platform staff (404), nor anonymously (401)', async () => {
    const res = await owner.GET('/api/system/workers');
    expect(res.response.status).toBe(404);
    expect(res.error).toMatchObject({ error: { code: 'not_found' } });
    const anonymous = await fetch(`${h.base}/api/system/workers`);
    expect(anonymous.status).toBe(401);
  });
});

describe('a worker process killed with SIGKILL', () => {
  const fast = new OperationRegistry(catalog);
  let loop: { stop(): Promise<void> } | undefined;
  afterAll(async () => {
    await loop?.stop();
  });

  it('shows alive with its run, then silent with it, then stopped once the reconciler declares it dead', async () => {
    const cli = spawnCli(['worker', '--concurrency', '2'], {
      DATABASE_URL: h.t.url,
      RUNWARDEN_CONFIG: 'test/fixtures/fast-catalog.ts',
      RUNWARDEN_RECONCILE_INTERVAL_SECONDS: '3600', // only this test's loop sweeps, once started
    });
    children.push(cli);
    const { workerId } = JSON.parse(await cli.waitFor(/"msg":"worker started"/, 30_000)) as {
      workerId: string;
    };
    const { run } = await startRun(
      { db: h.db, runs: h.runs, registry: fast },
      {
        type: 'test.slow',
        workspaceId: h.ids.contoso,
        tenantId: h.ids.prod,
        input: { seconds: 60, tag: 'workers-page' },
        initiatorUserId: ownerId,
      },
    );
    const alive = await until(
      async () => {
        const w = await workerView(workerId);
        // Its slots count as live from its first beat after they started.
        return w?.running.count === 1 && w.liveSlots === 2 ? w : undefined;
      },
      { within: 10_000, what: 'the worker to run it, its slots live' },
    );
    expect(alive).toMatchObject({
      pid: cli.child.pid,
      version: packageVersion(),
      concurrency: 2,
      liveSlots: 2,
      heartbeatMs: 1_000, // the fast catalog beats every second
      state: 'alive',
      running: { count: 1, runs: [{ id: run.id, link: `/system/ops/runs/${run.id}` }] },
    });
    expect(alive.types).toEqual(expect.arrayContaining(['test.slow', 'test.blocking']));

    cli.child.kill('SIGKILL');
    await cli.exited;
    // No reconciler sweeps yet: past 3 beats unseen it is silent, its run still on it.
    const silent = await until(
      async () => {
        const w = await workerView(workerId);
        return w?.state === 'silent' ? w : undefined;
      },
      { within: 10_000, what: 'the killed worker to turn silent' },
    );
    expect(silent.running).toMatchObject({ count: 1, runs: [{ id: run.id }] });
    expect(silent.stoppedAt).toBeNull();

    loop = startReconcilerLoop(
      { db: h.db, runs: h.runs, registry: fast, logger: quietLogger },
      0.5,
    );
    const stopped = await until(
      async () => {
        const w = await workerView(workerId);
        return w?.state === 'stopped' ? w : undefined;
      },
      { within: 15_000, what: 'the reconciler to declare the worker dead' },
    );
    expect(stopped.stoppedAt).not.toBeNull();
    // Its run was ended by the same reconciler (heartbeat lost), so it runs nothing now.
    await until(async () => (await workerView(workerId))?.running.count === 0, {
      within: 15_000,
      what: 'the reconciler to end its run',
    });
    expect(await h.runs.get(run.id)).toMatchObject({
      status: 'completed',
      outcome: 'failed',
      reconciliation: { reasonCode: 'run.heartbeat_lost' },
    });
  });
});
