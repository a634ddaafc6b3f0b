import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation, type ExternalState } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { reconcile } from '../../src/lifecycle/reconciler.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger, registryOf, runTestWorker } from '../support/worker.js';

// terminalTruth 'reconcile_only': the handler's return is evidence; its adapter ends the run.
const sourceStates = new Map<string, ExternalState>();
const deploy = defineOperation({
  type: 'fleet.deploy',
  label: 'Fleet deploy',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (i) => i,
  lifecycle: { terminalTruth: 'reconcile_only', retries: 0, heartbeatSeconds: 1 },
  run: async () => ({ outcome: 'succeeded', counts: { hosts: 3 } }),
  reconcile: async (run) => sourceStates.get(run.id),
});
const registry = registryOf(deploy);

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let worker: Awaited<ReturnType<typeof runTestWorker>>;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  worker = await runTestWorker(t, registry);
});
afterAll(async () => {
  await worker?.close();
});

async function events(id: string) {
  return await t.db
    .selectFrom('run_events')
    .select(['kind', 'payload'])
    .where('run_id', '=', id)
    .orderBy('id')
    .execute();
}

describe("terminalTruth 'reconcile_only'", () => {
  it('the wrapper records the handler result as evidence; the adapter, asked by the reconciler, ends the run', async () => {
    const { run: started } = await startRun(
      { db: t.db, runs, registry },
      {
        type: 'fleet.deploy',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { tag: 'v1' },
        initiatorUserId: scope.userId,
      },
    );
    const evidence = await until(
      async () => (await events(started.id)).find((e) => e.kind === 'handler_returned'),
      { what: 'the handler result on the timeline' },
    );
    expect(evidence.payload).toMatchObject({
      outcome: 'succeeded',
      counts: { hosts: 3 },
      attempt: 1,
    });
    // The job is done, yet the wrapper declared nothing: the run is still active.
    expect(await runs.get(started.id)).toMatchObject({ status: 'running', outcome: 'pending' });

    // Its worker no longer beats for it; while the source says "running" the reconciler keeps it.
    const later = new Date(Date.now() + 10_000);
    sourceStates.set(started.id, { status: 'running' });
    const kept = await reconcile(
      { db: t.db, runs, registry, logger: quietLogger, clock: () => later },
      { lock: false },
    );
    expect(kept.actions.find((a) => a.runId === started.id)?.result).toBe('skipped');
    expect((await runs.get(started.id))?.status).toBe('running');

    sourceStates.set(started.id, { status: 'completed', outcome: 'succeeded' });
    const evenLater = new Date(Date.now() + 20_000);
    const report = await reconcile(
      { db: t.db, runs, registry, logger: quietLogger, clock: () => evenLater },
      { lock: false },
    );
    expect(report.actions.find((a) => a.runId === started.id)?.result).toBe('adapter');
    expect(await runs.get(started.id)).toMatchObject({
      status: 'completed',
      outcome: 'succeeded',
      reconciliation: null,
    });
    expect((await events(started.id)).map((e) => e.kind)).toEqual([
      'created',
      'running',
      'handler_returned',
      'completed',
    ]);
  });

  it('asks the adapter of a silent waiting run every sweep, before it could read as likely stale', async () => {
    const { run: started } = await startRun(
      { db: t.db, runs, registry },
      {
        type: 'fleet.deploy',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { tag: 'v2' },
        initiatorUserId: scope.userId,
      },
    );
    await until(async () => (await events(started.id)).some((e) => e.kind === 'handler_returned'), {
      what: 'the handler result on the timeline',
    });
    const before = (await runs.get(started.id))?.last_heartbeat_at as Date;
    sourceStates.set(started.id, { status: 'running' });
    // Silent for 2 s: past one heartbeat interval (1 s), short of the loss window (3 s).
    const soon = new Date(before.getTime() + 2_000);
    const report = await reconcile(
      { db: t.db, runs, registry, logger: quietLogger, clock: () => soon },
      { lock: false },
    );
    const action = report.actions.find((a) => a.runId === started.id);
    expect(action).toMatchObject({
      result: 'skipped',
      note: 'the source of truth says it is running',
    });
    const after = await runs.get(started.id);
    if (!after?.last_heartbeat_at) throw new Error('the run has no heartbeat');
    expect(after.status).toBe('running');
    expect(after.last_heartbeat_at.getTime()).toBeGreaterThan(before.getTime());

    // The source finishes between two sweeps: the next one ends the run, still never stale.
    sourceStates.set(started.id, { status: 'completed', outcome: 'succeeded' });
    const next = new Date(after.last_heartbeat_at.getTime() + 2_000);
    const done = await reconcile(
      { db: t.db, runs, registry, logger: quietLogger, clock: () => next },
      { lock: false },
    );
    expect(done.actions.find((a) => a.runId === started.id)?.result).toBe('adapter');
    expect(await runs.get(started.id)).toMatchObject({ status: 'completed', outcome: 'succeeded' });
  });

  it('is refused at boot without a reconcile(run) adapter', () => {
    const withoutAdapter = defineOperation({
      type: 'fleet.deploy',
      label: 'Fleet deploy',
      scope: 'tenant',
      input: z.object({ tag: z.string() }),
      identity: (i) => i,
      lifecycle: { terminalTruth: 'reconcile_only' },
      run: async () => ({ outcome: 'succeeded' }),
    });
    expect(registryOf(withoutAdapter).policyProblems()).toEqual([
      expect.stringMatching(
        /fleet\.deploy: terminalTruth "reconcile_only" needs a reconcile\(run\) adapter/,
      ),
    ]);
  });
});
