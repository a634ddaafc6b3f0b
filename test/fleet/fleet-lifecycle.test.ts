import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startFleet } from '../../src/fleet/start-fleet.js';
import { reconcile } from '../../src/lifecycle/reconciler.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';
import { addTenants, fleetOperation } from './support.js';

// A fleet when things go wrong: a child whose worker died, a parent whose completion was lost, a
// start that fails half-way. No worker here: children are admitted and moved through RunService,
// as an admission pass and a worker would.

let t: TestDatabase;
let scope: Scope;
const registry = new OperationRegistry([fleetOperation(() => t)]);
let key = 0;
const runs = () => new RunService({ db: t.db });
const deps = () => ({ db: t.db, runs: runs(), registry });

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  await addTenants(t.db, scope.workspaceId, ['b', 'c']);
});

async function fleet() {
  key += 1;
  const started = await startFleet(deps(), {
    type: 'fleet.sync',
    workspaceId: scope.workspaceId,
    tenants: 'all',
    input: { key: `k${key}` },
    initiatorUserId: scope.userId,
  });
  const kids = await t.db
    .selectFrom('operation_runs')
    .select('id')
    .where('parent_id', '=', started.run.id)
    .orderBy('id')
    .execute();
  // Children start held; admitted as an admission pass would (no worker here).
  await runs().admit(kids.map((k) => k.id));
  return { parentId: started.run.id, kids: kids.map((k) => k.id) };
}
const run = (id: string) =>
  t.db.selectFrom('operation_runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const sweep = () => reconcile({ db: t.db, runs: runs(), registry, logger: quietLogger });

const laneCount = async () =>
  (await sql<{ n: number }>`select count(*)::int as n from flow_lanes`.execute(t.db)).rows[0]?.n;

describe('fleet lifecycle', () => {
  it('counts a reconciled child as failed and ends the parent; never judges the parent stale', async () => {
    const { parentId, kids } = await fleet();
    const [dead, ok1, ok2] = kids as [string, string, string];
    await runs().markRunning(dead, { workerId: 'w-gone' });
    expect((await run(parentId)).status).toBe('running');
    // The worker died long ago: its heartbeat is older than any window; so is the parent.
    await sql`update operation_runs set last_heartbeat_at = now() - interval '2 hours',
      started_at = now() - interval '2 hours', created_at = now() - interval '2 hours'
      where id in (${dead}, ${parentId})`.execute(t.db);
    const report = await sweep();
    expect(report.actions.map((a) => a.runId)).toEqual([dead]);
    expect(await run(dead)).toMatchObject({ outcome: 'failed', reconciled: true });
    expect(await run(parentId)).toMatchObject({ status: 'running', progress_processed: 1 });
    await runs().complete(ok1, { outcome: 'succeeded' });
    await runs().requestCancel(ok2, { userId: null });
    const parent = await run(parentId);
    expect(parent).toMatchObject({ status: 'completed', outcome: 'partially_succeeded' });
    expect(parent.summary_counts).toMatchObject({ succeeded: 1, failed: 1, cancelled: 1 });
  });

  it('the sweep ends a parent whose children all ended but whose own update was lost', async () => {
    const { parentId, kids } = await fleet();
    for (const id of kids.slice(1)) await runs().complete(id, { outcome: 'succeeded' });
    // The last child's end committed; its parent's update never happened (a crash in between).
    await sql`update operation_runs set status = 'completed', outcome = 'succeeded',
      completed_at = now() where id = ${kids[0]}`.execute(t.db);
    expect(await run(parentId)).toMatchObject({ status: 'queued', progress_processed: 2 });
    const report = await sweep();
    expect(report.fleetsCompleted).toEqual([parentId]);
    expect(await run(parentId)).toMatchObject({ outcome: 'succeeded', progress_processed: 3 });
    // Counting is idempotent: settling the same children again moves nothing.
    await runs().settleParents(kids);
    expect((await run(parentId)).progress_processed).toBe(3);
  });

  it('writes nothing when a child cannot start: never a parent without its children', async () => {
    const before = await t.db
      .selectFrom('operation_runs')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow();
    const lanesBefore = await laneCount();
    key += 1;
    // The database refuses the children's lanes, the fleet's last write: all of it rolls back.
    await sql`create function refuse_lanes() returns trigger language plpgsql as
      $$ begin raise exception 'lanes refused'; end $$`.execute(t.db);
    await sql`create trigger refuse_lanes before insert on flow_lanes
      for each statement execute function refuse_lanes()`.execute(t.db);
    try {
      await expect(
        startFleet(deps(), {
          type: 'fleet.sync',
          workspaceId: scope.workspaceId,
          tenants: 'all',
          input: { key: `k${key}` },
          initiatorUserId: scope.userId,
        }),
      ).rejects.toThrow(/lanes refused/);
    } finally {
      await sql`drop trigger refuse_lanes on flow_lanes`.execute(t.db);
      await sql`drop function refuse_lanes()`.execute(t.db);
    }
    expect(await laneCount()).toBe(lanesBefore);
    const after = await t.db
      .selectFrom('operation_runs')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('refuses a workspace type, unknown tenants and a fleet of no active tenant', async () => {
    const start = (tenants: 'all' | string[], type = 'fleet.sync') =>
      startFleet(deps(), {
        type,
        workspaceId: scope.workspaceId,
        tenants,
        input: { key: 'x' },
        initiatorUserId: null,
      });
    await expect(start(['nope'])).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(start(['legacy'])).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(start('all', 'no.such')).rejects.toMatchObject({ code: 'unknown_type' });
  });
});
