import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Role } from '../../src/db/schema.js';
import { ROLES } from '../../src/domain/capabilities.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { checkGate, gatePasses } from '../../src/execution/gate.js';
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
const workspaceWide = defineOperation({
  type: 'test.workspace_wide',
  label: 'Workspace-wide',
  scope: 'workspace',
  input: z.object({ tag: z.string() }),
  identity: (i) => i,
  async run(ctx) {
    invoked.add(ctx.runId);
    return { outcome: 'succeeded' };
  },
});
const registry = registryOf(guarded, workspaceWide);

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

async function start(tenantId: string | null, initiatorUserId: string | null, tag: string) {
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type: tenantId ? 'test.guarded' : 'test.workspace_wide',
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

/** A user with a membership in the scope's workspace. */
async function member(role: Role, tenantIds: string[] | null, disabled = false): Promise<string> {
  const id = uuidv7();
  await t.db
    .insertInto('users')
    .values({
      id,
      email: `${id}@demo.test`,
      name: 'Member',
      password_hash: null,
      disabled_at: disabled ? new Date() : null,
    })
    .execute();
  await t.db
    .insertInto('memberships')
    .values({
      id: uuidv7(),
      workspace_id: scope.workspaceId,
      user_id: id,
      role,
      tenant_ids: tenantIds,
    })
    .execute();
  return id;
}

/** Runs the queued runs with a worker started now (after the test changed what the gate reads). */
async function runAll(ids: string[]) {
  await worker?.close();
  worker = await runTestWorker(t, registry);
  return await until(
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
    { within: 10_000, what: 'the runs to complete' },
  );
}

const blockedForInitiator = {
  outcome: 'blocked',
  attempt: 0,
  failures: [expect.objectContaining({ code: 'gate.initiator_unauthorized' })],
};

describe('the gate and tenancy (DESIGN §10)', () => {
  it("blocks a tenant-restricted member's workspace-level run, and one started before they were restricted", async () => {
    await worker?.close();
    worker = undefined;
    const restricted = await member('operator', [scope.tenantId]);
    const narrowed = await member('operator', null);
    const byRestricted = await start(null, restricted, 'restricted');
    const byNarrowed = await start(null, narrowed, 'narrowed');
    const ownTenant = await start(scope.tenantId, restricted, 'own tenant');
    const byOwner = await start(null, scope.userId, 'owner');
    await t.db
      .updateTable('memberships')
      .set({ tenant_ids: [scope.tenantId] })
      .where('user_id', '=', narrowed)
      .execute();

    const done = await runAll([byRestricted.id, byNarrowed.id, ownTenant.id, byOwner.id]);
    expect(done.get(byRestricted.id)).toMatchObject(blockedForInitiator);
    expect(done.get(byNarrowed.id)).toMatchObject(blockedForInitiator);
    expect(done.get(ownTenant.id)?.outcome).toBe('succeeded');
    expect(done.get(byOwner.id)?.outcome).toBe('succeeded');
    expect(invoked.has(byRestricted.id) || invoked.has(byNarrowed.id)).toBe(false);
  });

  it("blocks a disabled user's queued runs: tenant-level and workspace-level", async () => {
    await worker?.close();
    worker = undefined;
    const leaving = await member('manager', null);
    const tenantRun = await start(scope.tenantId, leaving, 'leaving tenant');
    const workspaceRun = await start(null, leaving, 'leaving workspace');
    // Only the flag, membership kept: the gate reads the user, not only the membership.
    await t.db
      .updateTable('users')
      .set({ disabled_at: new Date() })
      .where('id', '=', leaving)
      .execute();

    const done = await runAll([tenantRun.id, workspaceRun.id]);
    expect(done.get(tenantRun.id)).toMatchObject(blockedForInitiator);
    expect(done.get(workspaceRun.id)).toMatchObject(blockedForInitiator);
    expect(invoked.has(tenantRun.id) || invoked.has(workspaceRun.id)).toBe(false);
  });

  it('checkGate and its SQL form agree on every role, restriction, run scope and disabled user', async () => {
    await worker?.close();
    worker = undefined;
    const other = uuidv7();
    const cases: Array<{ id: string; what: string }> = [];
    for (const role of ROLES)
      for (const tenantIds of [null, [scope.tenantId], [other]])
        for (const disabled of [false, true])
          for (const tenantId of [scope.tenantId, null]) {
            const initiator = await member(role, tenantIds, disabled);
            const run = await start(
              tenantId,
              initiator,
              `${role}-${tenantIds}-${disabled}-${tenantId}`,
            );
            cases.push({
              id: run.id,
              what: `${role} ${tenantIds} disabled=${disabled} run tenant ${tenantId}`,
            });
          }
    const sqlSays = new Map(
      (
        await t.db
          .selectFrom('operation_runs')
          .select(['id', gatePasses().as('passes')])
          .where(
            'id',
            'in',
            cases.map((c) => c.id),
          )
          .execute()
      ).map((r) => [r.id, r.passes]),
    );
    let passing = 0;
    for (const c of cases) {
      const run = await t.db
        .selectFrom('operation_runs')
        .selectAll()
        .where('id', '=', c.id)
        .executeTakeFirstOrThrow();
      const verdict = await checkGate(t.db, run);
      expect(sqlSays.get(c.id), c.what).toBe(verdict.pass);
      if (verdict.pass) passing += 1;
    }
    // Enabled owners, managers and operators: both runs when unrestricted, their tenant's when
    // restricted to it, none when restricted elsewhere.
    expect(passing).toBe(3 * (2 + 1));
  });
});
