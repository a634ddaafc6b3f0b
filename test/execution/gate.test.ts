import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { uuidv7 } from '../../src/domain/uuid.js';
import { defineOperation } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { registryOf, runTestWorker } from '../support/worker.js';

const invoked = new Set<string>();
const guarded = defineOperation({
  type: 'test.guarded',
  label: 'Guarded',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (i) => i,
  async run(ctx) {
    invoked.add(ctx.runId);
    return { outcome: 'succeeded' };
  },
});
const registry = registryOf(guarded);

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let worker: Awaited<ReturnType<typeof runTestWorker>> | undefined;
afterAll(async () => {
  await worker?.close();
});

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});

async function start(tenantId: string, initiatorUserId: string | null, tag: string) {
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type: 'test.guarded',
      workspaceId: scope.workspaceId,
      tenantId,
      input: { tag },
      initiatorUserId,
    },
  );
  return run;
}

describe('legitimacy gate before every attempt', () => {
  it('blocks runs whose tenant went inactive or whose initiator lost the start capability; the handler never runs', async () => {
    // A second active tenant that will be deactivated after its run was queued.
    const closingTenant = uuidv7();
    await t.db
      .insertInto('tenants')
      .values({
        id: closingTenant,
        workspace_id: scope.workspaceId,
        slug: 'closing',
        name: 'Closing',
      })
      .execute();
    // Two operators: one demoted to readonly, one removed from the workspace.
    const demoted = uuidv7();
    const removed = uuidv7();
    await t.db
      .insertInto('users')
      .values([
        { id: demoted, email: 'demoted@demo.test', name: 'Demoted', password_hash: null },
        { id: removed, email: 'removed@demo.test', name: 'Removed', password_hash: null },
      ])
      .execute();
    await t.db
      .insertInto('memberships')
      .values([
        {
          id: uuidv7(),
          workspace_id: scope.workspaceId,
          user_id: demoted,
          role: 'operator',
          tenant_ids: null,
        },
        {
          id: uuidv7(),
          workspace_id: scope.workspaceId,
          user_id: removed,
          role: 'operator',
          tenant_ids: null,
        },
      ])
      .execute();

    const inactive = await start(closingTenant, null, 'inactive');
    const byDemoted = await start(scope.tenantId, demoted, 'demoted');
    const byRemoved = await start(scope.tenantId, removed, 'removed');
    const legit = await start(scope.tenantId, scope.userId, 'legit');
    const system = await start(scope.tenantId, null, 'system');

    await t.db
      .updateTable('tenants')
      .set({ status: 'inactive' })
      .where('id', '=', closingTenant)
      .execute();
    await t.db
      .updateTable('memberships')
      .set({ role: 'readonly' })
      .where('user_id', '=', demoted)
      .execute();
    await t.db.deleteFrom('memberships').where('user_id', '=', removed).execute();

    worker = await runTestWorker(t, registry);
    const ids = [inactive.id, byDemoted.id, byRemoved.id, legit.id, system.id];
    const done = await until(
      async () => {
        const rows = await t.db
          .selectFrom('operation_runs')
          .selectAll()
          .where('id', 'in', ids)
          .execute();
        return rows.every((r) => r.status === 'completed')
          ? new Map(rows.map((r) => [r.id, r]))
          : undefined;
      },
      { within: 10_000, what: 'all gated runs to complete' },
    );

    expect(done.get(inactive.id)).toMatchObject({
      outcome: 'blocked',
      attempt: 0,
      failures: [expect.objectContaining({ code: 'gate.tenant_inactive' })],
    });
    for (const id of [byDemoted.id, byRemoved.id]) {
      expect(done.get(id)).toMatchObject({
        outcome: 'blocked',
        failures: [expect.objectContaining({ code: 'gate.initiator_unauthorized' })],
      });
    }
    expect(done.get(legit.id)?.outcome).toBe('succeeded');
    expect(done.get(system.id)?.outcome).toBe('succeeded');
    expect([...invoked].sort()).toEqual([legit.id, system.id].sort());
  });
});
