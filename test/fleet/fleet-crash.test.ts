import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startFleet } from '../../src/fleet/start-fleet.js';
import { reconcile, startReconcilerLoop } from '../../src/lifecycle/reconciler.js';
import { RunService } from '../../src/runs/run-service.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';
import { addTenants, catalog } from './support.js';

// A worker process running a fleet's children is killed with SIGKILL mid-fleet: the children it
// was running are reconciled (heartbeat lost after 3 × 1 s) and count as failed, and the parent
// ends on its own — partially succeeded or failed, never left queued or running.

const TENANTS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
const registry = new OperationRegistry(catalog);
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let key = 0;
const processes: CliProcess[] = [];

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db); // `prod` (active) and `legacy` (inactive)
  runs = new RunService({ db: t.db });
  await addTenants(t.db, scope.workspaceId, TENANTS);
});
afterEach(async () => {
  for (const cli of processes.splice(0)) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
});
afterAll(() => {
  for (const cli of processes) cli.child.kill('SIGKILL');
});

async function spawnWorker(reconcileEverySeconds: number) {
  const cli = spawnCli(['worker', '--concurrency', '8'], {
    DATABASE_URL: t.url,
    RUNWARDEN_CONFIG: 'test/fleet/support.ts',
    RUNWARDEN_RECONCILE_INTERVAL_SECONDS: String(reconcileEverySeconds),
  });
  processes.push(cli);
  const line = await cli.waitFor(/"msg":"worker started"/, 30_000);
  return { cli, workerId: (JSON.parse(line) as { workerId: string }).workerId };
}

/** A fleet over every tenant whose `waiting` tenants' children run until their worker dies. */
async function fleet(waiting: string[]) {
  key += 1;
  const started = await startFleet(
    { db: t.db, runs, registry },
    {
      type: 'fleet.crash',
      workspaceId: scope.workspaceId,
      tenants: 'all',
      input: { key: `k${key}`, plan: Object.fromEntries(waiting.map((s) => [s, 'wait'])) },
      initiatorUserId: scope.userId,
    },
  );
  expect(started.children).toEqual({ started: 6, reused: 0, skipped: 1 });
  return started.run.id;
}

const children = (parentId: string) =>
  t.db
    .selectFrom('operation_runs as r')
    .innerJoin('tenants', 'tenants.id', 'r.tenant_id')
    .select(['r.id', 'r.status', 'r.outcome', 'r.worker_id', 'r.completed_at', 'r.reconciliation'])
    .select('tenants.slug')
    .where('r.parent_id', '=', parentId)
    .orderBy('tenants.slug')
    .execute();
const parent = (id: string) =>
  t.db.selectFrom('operation_runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/**
 * Until the non-waiting children succeeded and the waiting ones run on `workerId` (concurrency 8:
 * it takes all six), and the parent runs with the successes counted.
 */
async function midFleet(parentId: string, waiting: string[], workerId: string) {
  await until(
    async () => {
      const kids = await children(parentId);
      return kids.every((k) =>
        waiting.includes(k.slug)
          ? k.status === 'running' && k.worker_id === workerId
          : k.outcome === 'succeeded',
      );
    },
    { within: 20_000, what: 'the worker to run every child' },
  );
  // A child's parent follows its commit in a statement of its own: a moment later.
  await until(
    async () => {
      const p = await parent(parentId);
      return p.status === 'running' && p.progress_processed === 6 - waiting.length;
    },
    { within: 5_000, what: 'the parent to run and count the children that succeeded' },
  );
}

async function ended(parentId: string) {
  return await until(
    async () => {
      const p = await parent(parentId);
      return p.status === 'completed' ? p : undefined;
    },
    { within: 20_000, what: 'the parent to end' },
  );
}

/** What the fleet says once it ended: every child terminal and counted, the lost ones reconciled. */
async function expectSettled(parentId: string, waiting: string[], victimId: string) {
  const done = await ended(parentId);
  const kids = await children(parentId);
  expect(kids.filter((k) => k.status !== 'completed')).toEqual([]);
  for (const kid of kids.filter((k) => waiting.includes(k.slug))) {
    expect(kid).toMatchObject({
      outcome: 'failed',
      reconciliation: {
        reasonCode: 'run.heartbeat_lost',
        source: 'reconciler',
        evidence: { workerId: victimId },
      },
    });
  }
  const succeeded = 6 - waiting.length;
  expect(done).toMatchObject({ progress_processed: 6, progress_total: 6 });
  expect(done.summary_counts).toEqual({
    succeeded,
    partially_succeeded: 0,
    failed: waiting.length,
    blocked: 0,
    cancelled: 0,
  });
  expect(done.context).toMatchObject({ skipped: { count: 1, tenants: ['legacy'] } });
  // The failures name the tenants that did not succeed, each with its child's reason.
  expect(done.failures.map((f) => f.message.match(/^Tenant (\S+): failed — /)?.[1])).toEqual(
    [...waiting].sort(),
  );
  // Ended by the sweep that failed its last child, not at some later one.
  const last = Math.max(...kids.map((k) => k.completed_at?.getTime() ?? 0));
  expect((done.completed_at?.getTime() ?? 0) - last).toBeLessThan(1_000);
  // One notification for the initiator, about the parent; none per child.
  const notices = await t.db
    .selectFrom('notifications')
    .select(['user_id', 'run_id'])
    .where('run_id', 'in', [parentId, ...kids.map((k) => k.id)])
    .execute();
  expect(notices).toEqual([{ user_id: scope.userId, run_id: parentId }]);
  const events = await t.db
    .selectFrom('run_events')
    .select('kind')
    .where('run_id', '=', parentId)
    .orderBy('id')
    .execute();
  expect(events.map((e) => e.kind)).toEqual(['created', 'running', 'completed']);
  // A later sweep finds nothing left to do.
  const again = await reconcile({ db: t.db, runs, registry, logger: quietLogger }, { lock: false });
  expect(again.actions.filter((a) => a.result === 'failed')).toEqual([]);
  expect(again.fleetsCompleted).toEqual([]);
  return done;
}

describe('a worker killed with SIGKILL mid-fleet', () => {
  it('some children succeeded: the lost ones are reconciled as failed, the parent partially succeeds', {
    timeout: 90_000,
  }, async () => {
    // This process sweeps every 0.5 s; the worker's own sweeps wait an hour.
    const loop = startReconcilerLoop({ db: t.db, runs, registry, logger: quietLogger }, 0.5);
    try {
      const victim = await spawnWorker(3600);
      const waiting = ['charlie', 'echo', 'prod'];
      const parentId = await fleet(waiting);
      await midFleet(parentId, waiting, victim.workerId);
      victim.cli.child.kill('SIGKILL');
      await victim.cli.exited;
      const done = await expectSettled(parentId, waiting, victim.workerId);
      expect(done.outcome).toBe('partially_succeeded');
    } finally {
      await loop.stop();
    }
  });

  it('no child succeeded: a second worker process reconciles them all and the parent fails', {
    timeout: 90_000,
  }, async () => {
    const victim = await spawnWorker(3600);
    const waiting = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'prod'];
    const parentId = await fleet(waiting);
    await midFleet(parentId, waiting, victim.workerId);
    victim.cli.child.kill('SIGKILL');
    await victim.cli.exited;
    // The survivor starts after the kill (nothing is left queued for it) and sweeps every 0.5 s.
    await spawnWorker(0.5);
    const done = await expectSettled(parentId, waiting, victim.workerId);
    expect(done.outcome).toBe('failed');
  });
});
