import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { cancelAnyRun } from '../../src/fleet/cancel-fleet.js';
import { retryFleet } from '../../src/fleet/retry-fleet.js';
import { startFleet } from '../../src/fleet/start-fleet.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { runTestWorker } from '../support/worker.js';
import { addTenants, fleetOperation, releaseWaiting } from './support.js';

// Fleets on real PostgreSQL with a real worker: the parent's truth follows its children.

let t: TestDatabase;
let scope: Scope;
const registry = new OperationRegistry([fleetOperation(() => t)]);
let worker: Awaited<ReturnType<typeof runTestWorker>>;
let key = 0;
const runs = () => new RunService({ db: t.db });
const deps = () => ({ db: t.db, runs: runs(), registry });

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  await addTenants(t.db, scope.workspaceId, ['b', 'c', 'd']);
  worker = await runTestWorker(t, registry, { concurrency: 8 });
});

afterAll(async () => {
  releaseWaiting();
  await worker?.close();
});

function fleet(plan: Record<string, string> = {}, tenants: 'all' | string[] = 'all') {
  key += 1;
  return startFleet(deps(), {
    type: 'fleet.sync',
    workspaceId: scope.workspaceId,
    tenants,
    input: { key: `k${key}`, plan },
    initiatorUserId: scope.userId,
  });
}

const run = (id: string) =>
  t.db.selectFrom('operation_runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const children = (parentId: string) =>
  t.db
    .selectFrom('fleet_children as c')
    .innerJoin('operation_runs as r', 'r.id', 'c.run_id')
    .innerJoin('tenants', 'tenants.id', 'c.tenant_id')
    .select(['r.id', 'r.status', 'r.outcome', 'r.parent_id', 'c.reused', 'tenants.slug'])
    .where('c.parent_id', '=', parentId)
    .orderBy('tenants.slug')
    .execute();
const completed = (id: string, within = 10_000) =>
  until(
    async () => {
      const row = await run(id);
      return row.status === 'completed' ? row : undefined;
    },
    { within, what: `run ${id} completed` },
  );

describe('fleet operations', () => {
  it('runs one child per active tenant, skips inactive ones, and ends with the outcome its children add up to', async () => {
    const started = await fleet({ b: 'failed', c: 'partially_succeeded' });
    expect(started.children).toEqual({ started: 4, reused: 0, skipped: 1 });
    expect(started.run).toMatchObject({ fleet: true, tenant_id: null, progress_total: 4 });
    expect(started.run.context).toMatchObject({ skipped: { count: 1, tenants: ['legacy'] } });
    const parent = await completed(started.run.id);
    expect(parent.outcome).toBe('partially_succeeded');
    expect(parent.progress_processed).toBe(4);
    expect(parent.summary_counts).toEqual({
      succeeded: 2,
      partially_succeeded: 1,
      failed: 1,
      blocked: 0,
      cancelled: 0,
    });
    expect(parent.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/^Tenant b: failed/),
      expect.stringMatching(/^Tenant c: partially succeeded/),
    ]);
    const kids = await children(started.run.id);
    expect(kids.map((k) => [k.slug, k.outcome, k.parent_id])).toEqual([
      ['b', 'failed', started.run.id],
      ['c', 'partially_succeeded', started.run.id],
      ['d', 'succeeded', started.run.id],
      ['prod', 'succeeded', started.run.id],
    ]);
    // One notification for the fleet, none per child.
    const notices = await t.db
      .selectFrom('notifications')
      .select('run_id')
      .where('user_id', '=', scope.userId)
      .execute();
    expect(notices.map((n) => n.run_id)).toEqual([started.run.id]);
  });

  it('is failed when no child succeeded, succeeded when all did', async () => {
    const none = await fleet({ prod: 'failed', b: 'throw', c: 'failed', d: 'failed' });
    expect((await completed(none.run.id)).outcome).toBe('failed');
    const all = await fleet({}, ['b', 'c']);
    expect(all.children).toEqual({ started: 2, reused: 0, skipped: 0 });
    const parent = await completed(all.run.id);
    expect(parent.outcome).toBe('succeeded');
    expect(parent.failures).toEqual([]);
  });

  it('runs while a child runs and completes within a second of its last child', async () => {
    const started = await fleet({ d: 'wait' });
    await until(async () => (await run(started.run.id)).status === 'running', {
      what: 'parent running',
    });
    // A child's end commits first, its parent's count right after it: poll the parent.
    await until(async () => (await run(started.run.id)).progress_processed === 3, {
      what: 'three children counted',
    });
    expect(await run(started.run.id)).toMatchObject({ status: 'running' });
    releaseWaiting();
    const last = await until(
      async () => {
        const d = (await children(started.run.id)).find((k) => k.slug === 'd');
        return d?.status === 'completed' ? d : undefined;
      },
      { what: 'last child done' },
    );
    const parent = await completed(started.run.id, 1_000);
    const child = await run(last.id);
    expect(parent.outcome).toBe('succeeded');
    expect(parent.completed_at?.getTime() ?? 0).toBeLessThan(
      (child.completed_at?.getTime() ?? 0) + 1_000,
    );
  });

  it('joins a tenant whose identical run is already active, and counts that run', async () => {
    key += 1;
    const input = { key: `k${key}`, plan: { prod: 'wait' } };
    const own = await startRun(deps(), {
      type: 'fleet.sync',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input,
      initiatorUserId: null,
    });
    const started = await startFleet(deps(), {
      type: 'fleet.sync',
      workspaceId: scope.workspaceId,
      tenants: 'all',
      input,
      initiatorUserId: scope.userId,
    });
    expect(started.children).toEqual({ started: 3, reused: 1, skipped: 1 });
    const kids = await children(started.run.id);
    const joined = kids.find((k) => k.slug === 'prod');
    expect(joined).toMatchObject({ id: own.run.id, reused: true, parent_id: null });
    await until(async () => (await run(started.run.id)).progress_processed === 3, {
      what: 'three counted',
    });
    expect((await run(started.run.id)).status).toBe('running');
    releaseWaiting();
    const parent = await completed(started.run.id);
    expect(parent).toMatchObject({ outcome: 'succeeded', progress_processed: 4 });
  });
});

describe('fleet retry', () => {
  it('retries only the tenants that did not succeed, as a new fleet linked to the old one', async () => {
    const first = await fleet({ b: 'failed', c: 'throw' });
    expect((await completed(first.run.id)).outcome).toBe('partially_succeeded');
    const again = await retryFleet(deps(), { parentId: first.run.id, initiatorUserId: null });
    expect(again.children).toEqual({ started: 2, reused: 0, skipped: 0 });
    expect(again.run).toMatchObject({ retry_of: first.run.id, input: first.run.input });
    expect((await children(again.run.id)).map((k) => k.slug)).toEqual(['b', 'c']);
    // The same plan fails them again: the retry's own truth, the first fleet unchanged.
    expect((await completed(again.run.id)).outcome).toBe('failed');
    expect(await run(first.run.id)).toMatchObject({ outcome: 'partially_succeeded' });
    const all = await fleet({}, ['d']);
    await completed(all.run.id);
    await expect(
      retryFleet(deps(), { parentId: all.run.id, initiatorUserId: null }),
    ).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('fleet cancel', () => {
  it('cancels queued children at once and the parent when its last child ends', async () => {
    const started = await fleet({ prod: 'wait' });
    await until(async () => (await run(started.run.id)).progress_processed === 3, {
      what: 'three children counted',
    });
    const result = await cancelAnyRun(deps(), started.run.id, { userId: scope.userId });
    expect(result).toMatchObject({ moved: true, effect: 'cancel_requested' });
    // The running child was asked to stop; it ends cancelled and the parent follows.
    const parent = await completed(started.run.id);
    expect(parent.outcome).toBe('cancelled');
    expect(parent.summary_counts).toMatchObject({ succeeded: 3, cancelled: 1 });
  });

  it('cancel of one child leaves the parent running; the parent then cancels the rest at once', async () => {
    await worker.close();
    try {
      const started = await fleet();
      const kids = await children(started.run.id);
      const [first, ...rest] = kids;
      if (!first) throw new Error('no child');
      expect(await cancelAnyRun(deps(), first.id, { userId: null })).toMatchObject({
        effect: 'cancelled',
      });
      expect(await run(started.run.id)).toMatchObject({
        status: 'queued',
        progress_processed: 1,
      });
      const result = await cancelAnyRun(deps(), started.run.id, { userId: scope.userId });
      expect(result).toMatchObject({ moved: true, effect: 'cancelled' });
      const parent = await run(started.run.id);
      expect(parent).toMatchObject({ status: 'completed', outcome: 'cancelled' });
      expect(parent.summary_counts).toMatchObject({ cancelled: rest.length + 1 });
      for (const kid of await children(started.run.id)) expect(kid.outcome).toBe('cancelled');
    } finally {
      worker = await runTestWorker(t, registry, { concurrency: 8 });
    }
  });
});
