import { sql } from 'kysely';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunRow } from '../../src/db/schema.js';
import type { FlowPool } from '../../src/domain/flow.js';
import { cancelRun } from '../../src/execution/cancel.js';
import { defineOperation } from '../../src/execution/operation.js';
import { enqueueRun } from '../../src/execution/queue.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { type AdmissionDeps, admissionPass } from '../../src/flow/admission-pass.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope, testClock } from '../support/fixtures.js';

// Admission passes on a real database, without workers: a test starts runs, runs passes, and
// moves runs to running/completed itself, so every limit is checked at its edge.

const input = z.object({ n: z.number() });
const limited = defineOperation({
  type: 'graph.sync',
  label: 'Graph sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  flow: { concurrency: { perTenant: 2, total: 3 }, pools: ['graph'] },
  run: async () => ({ outcome: 'succeeded' }),
});
const rated = defineOperation({
  type: 'graph.rated',
  label: 'Graph rated',
  scope: 'tenant',
  input,
  identity: (i) => i,
  flow: { rate: { perTenant: { limit: 2, intervalSeconds: 10 } } },
  run: async () => ({ outcome: 'succeeded' }),
});
const fair = defineOperation({
  type: 'fair.sync',
  label: 'Fair sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  flow: {},
  run: async () => ({ outcome: 'succeeded' }),
});
const plain = defineOperation({
  type: 'plain.sync',
  label: 'Plain sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  run: async () => ({ outcome: 'succeeded' }),
});
const pools: FlowPool[] = [{ name: 'graph', concurrency: { perTenant: 5 } }];

let t: TestDatabase;
let scope: Scope;
let other: string;
const clock = testClock(new Date());
let runs: RunService;
let registry: OperationRegistry;
let n = 0;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  other = (
    await t.db
      .insertInto('tenants')
      .values({ id: crypto.randomUUID(), workspace_id: scope.workspaceId, slug: 'b', name: 'B' })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  runs = new RunService({ db: t.db, clock });
  registry = new OperationRegistry([limited, rated, fair, plain], undefined, { flowPools: pools });
});

beforeEach(async () => {
  await sql`truncate operation_runs, flow_lanes, flow_shares, flow_pauses, flow_limit_overrides cascade`.execute(
    t.db,
  );
  await sql`delete from graphile_worker._private_jobs`.execute(t.db);
});

function deps(overrides: Partial<AdmissionDeps> = {}): AdmissionDeps {
  return {
    db: t.db,
    runs,
    types: registry.list(),
    pools,
    clock,
    readyTarget: 100,
    enqueue: async (trx, run) => {
      await enqueueRun(trx, {
        taskIdentifier: `runwarden:${run.type}`,
        runId: run.id,
        maxAttempts: 1,
        priority: run.priority,
      });
    },
    ...overrides,
  };
}

async function start(type: string, tenantId = scope.tenantId, extra: Record<string, unknown> = {}) {
  n += 1;
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type,
      workspaceId: scope.workspaceId,
      tenantId,
      input: { n },
      initiatorUserId: null,
      ...extra,
    },
  );
  return run;
}

async function jobCount(): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from graphile_worker._private_jobs`.execute(t.db);
  return rows[0]?.n ?? 0;
}

const ids = (rows: RunRow[]) => rows.map((r) => r.id).sort();

describe('start', () => {
  it('a type with flow starts held, with no queue job; a type without keeps today’s path', async () => {
    const held = await start('graph.sync');
    expect(held).toMatchObject({ status: 'queued', held: true, eligible_at: null });
    expect(await jobCount()).toBe(0);
    const now = await start('plain.sync');
    expect(now.held).toBe(false);
    expect(await jobCount()).toBe(1);
  });

  it('a duplicate start of a held run reuses it', async () => {
    const first = await start('graph.sync', scope.tenantId);
    const { run, reused } = await startRun(
      { db: t.db, runs, registry },
      {
        type: 'graph.sync',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { n: first.input.n },
        initiatorUserId: null,
      },
    );
    expect(reused).toBe(true);
    expect(run.id).toBe(first.id);
  });
});

describe('cancel', () => {
  it('a waiting (held) run is cancelled at once and never admitted', async () => {
    const run = await start('graph.sync');
    const cancelled = await cancelRun({ db: t.db, runs }, run.id, { userId: null });
    expect(cancelled).toMatchObject({ moved: true, effect: 'cancelled' });
    expect(await runs.get(run.id)).toMatchObject({ status: 'completed', outcome: 'cancelled' });
    expect((await admissionPass(deps())).admitted).toHaveLength(0);
    expect(await jobCount()).toBe(0);
  });
});

describe('concurrency limits', () => {
  it('admits up to perTenant per tenant and total across tenants, then frees slots as runs end', async () => {
    for (let i = 0; i < 4; i++) await start('graph.sync', scope.tenantId);
    for (let i = 0; i < 4; i++) await start('graph.sync', other);
    const first = await admissionPass(deps());
    // perTenant 2, total 3: two of one tenant and one of the other.
    expect(first.admitted).toHaveLength(3);
    const perTenant = new Map<string, number>();
    for (const run of first.admitted)
      perTenant.set(run.tenant_id ?? '', (perTenant.get(run.tenant_id ?? '') ?? 0) + 1);
    expect([...perTenant.values()].sort()).toEqual([1, 2]);
    expect(await jobCount()).toBe(3);
    expect((await admissionPass(deps())).admitted).toHaveLength(0);

    const done = first.admitted[0] as RunRow;
    await runs.markRunning(done.id, { workerId: 'w' });
    await runs.complete(done.id, { outcome: 'succeeded' });
    const next = await admissionPass(deps());
    expect(next.admitted).toHaveLength(1);
  });

  it('a waiting lane records why: capacity, with the numbers', async () => {
    for (let i = 0; i < 3; i++) await start('graph.sync', scope.tenantId);
    await admissionPass(deps());
    const lane = await t.db
      .selectFrom('flow_lanes')
      .selectAll()
      .where('tenant_key', '=', scope.tenantId)
      .executeTakeFirstOrThrow();
    expect(lane.verdict).toEqual({
      kind: 'capacity',
      limit: 'graph.sync',
      scope: 'tenant',
      running: 2,
      max: 2,
    });
  });

  it('a runtime override replaces the catalog’s limits', async () => {
    for (let i = 0; i < 3; i++) await start('graph.sync', scope.tenantId);
    await t.db
      .insertInto('flow_limit_overrides')
      .values({ name: 'graph.sync', limits: JSON.stringify({ concurrency: { perTenant: 1 } }) })
      .execute();
    expect((await admissionPass(deps())).admitted).toHaveLength(1);
  });

  it('a pool’s per-tenant limit spans the types that draw from it', async () => {
    await t.db
      .insertInto('flow_limit_overrides')
      .values({ name: 'graph', limits: JSON.stringify({ concurrency: { perTenant: 1 } }) })
      .execute();
    for (let i = 0; i < 3; i++) await start('graph.sync', scope.tenantId);
    const pass = await admissionPass(deps());
    expect(pass.admitted).toHaveLength(1);
    const lane = await t.db.selectFrom('flow_lanes').select('verdict').executeTakeFirstOrThrow();
    expect(lane.verdict).toMatchObject({ kind: 'capacity', limit: 'graph', running: 1, max: 1 });
  });
});

describe('rate limits', () => {
  it('never more starts in a window; the next start when the oldest leaves it', async () => {
    for (let i = 0; i < 5; i++) await start('graph.rated', scope.tenantId);
    const first = await admissionPass(deps());
    expect(first.admitted).toHaveLength(2);
    // Admitted but not started: they count as starts already.
    expect((await admissionPass(deps())).admitted).toHaveLength(0);
    for (const run of first.admitted) {
      await runs.markRunning(run.id, { workerId: 'w' });
      await runs.complete(run.id, { outcome: 'succeeded' });
    }
    clock.advance(9_000);
    const blocked = await admissionPass(deps());
    expect(blocked.admitted).toHaveLength(0);
    const lane = await t.db.selectFrom('flow_lanes').select('verdict').executeTakeFirstOrThrow();
    expect(lane.verdict).toMatchObject({ kind: 'rate', limit: 'graph.rated', scope: 'tenant' });
    const nextAt = new Date((lane.verdict as { nextAt: string }).nextAt);
    expect(nextAt.getTime() - clock().getTime()).toBeGreaterThan(0);
    expect(nextAt.getTime() - clock().getTime()).toBeLessThanOrEqual(1_000);
    // The admitters wake for it: nothing else happens when a window frees a start.
    expect(blocked.nextAt).toEqual(nextAt);
    clock.advance(1_001);
    expect((await admissionPass(deps())).admitted).toHaveLength(2);
  });
});

describe('fair dispatch', () => {
  it('a tenant with a backlog does not delay another tenant’s one run past its next turn', async () => {
    for (let i = 0; i < 20; i++) await start('fair.sync', scope.tenantId);
    const first = await admissionPass(deps({ readyTarget: 2 }));
    expect(first.admitted.map((r) => r.tenant_id)).toEqual([scope.tenantId, scope.tenantId]);
    const late = await start('fair.sync', other);
    for (const run of first.admitted) {
      await runs.markRunning(run.id, { workerId: 'w' });
      await runs.complete(run.id, { outcome: 'succeeded' });
    }
    const second = await admissionPass(deps({ readyTarget: 2 }));
    expect(second.admitted.map((r) => r.id)).toContain(late.id);
  });

  it('shares alternate by weight: a tenant of weight 2 gets two for every one', async () => {
    await t.db.updateTable('tenants').set({ weight: 2 }).where('id', '=', other).execute();
    for (let i = 0; i < 12; i++) await start('fair.sync', scope.tenantId);
    for (let i = 0; i < 12; i++) await start('fair.sync', other);
    const pass = await admissionPass(deps({ readyTarget: 9 }));
    const byTenant = pass.admitted.filter((r) => r.tenant_id === other).length;
    expect(byTenant).toBe(6);
    await t.db.updateTable('tenants').set({ weight: 1 }).where('id', '=', other).execute();
  });

  it('high priority goes first across tenants; low waits for normal', async () => {
    const low = await start('fair.sync', scope.tenantId, { priority: 'low' });
    const normal = await start('fair.sync', scope.tenantId);
    const high = await start('fair.sync', other, { priority: 'high' });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const pass = await admissionPass(deps({ readyTarget: 1 }));
      const run = pass.admitted[0] as RunRow;
      order.push(run.id);
      await runs.markRunning(run.id, { workerId: 'w' });
    }
    expect(order).toEqual([high.id, normal.id, low.id]);
  });
});

describe('free worker slots', () => {
  it('a run waiting out its retry backoff takes no slot from admission: workers would sit idle', async () => {
    // Its failed attempt put it back to queued, its job due only after graphile's backoff
    // (seconds to minutes): it is not waiting for a worker, so it must not eat the budget.
    const flaky = await start('fair.sync', scope.tenantId);
    expect((await admissionPass(deps({ readyTarget: 1 }))).admitted.map((r) => r.id)).toEqual([
      flaky.id,
    ]);
    await runs.markRunning(flaky.id, { workerId: 'w' });
    await runs.recordAttemptFailure(flaky.id, new Error('throttled'));
    expect(await runs.get(flaky.id)).toMatchObject({ status: 'queued', held: false });
    const next = await start('fair.sync', other);
    const pass = await admissionPass(deps({ readyTarget: 1 }));
    expect(pass.admitted.map((r) => r.id)).toEqual([next.id]);
  });
});

describe('runAt and expiresAt', () => {
  it('a delayed run waits for its time, then is admitted; the pass says when to wake', async () => {
    const later = await start('plain.sync', scope.tenantId, { delaySeconds: 30 });
    expect(later).toMatchObject({ held: true });
    expect(await jobCount()).toBe(0);
    const before = await admissionPass(deps());
    expect(before.admitted).toHaveLength(0);
    expect(before.nextAt?.getTime()).toBe(later.run_at?.getTime());
    clock.set(new Date((later.run_at as Date).getTime() + 1));
    expect(ids((await admissionPass(deps())).admitted)).toEqual([later.id]);
    expect(await jobCount()).toBe(1);
  });

  it('a held run past its expiresAt ends cancelled with run.expired', async () => {
    const soon = new Date(Date.now() + 60_000);
    clock.set(new Date());
    const run = await start('graph.sync', scope.tenantId, {
      expiresAt: new Date(clock().getTime() + 5_000),
    });
    clock.advance(6_000);
    const pass = await admissionPass(deps());
    expect(pass.expired).toBe(1);
    const ended = await runs.get(run.id);
    expect(ended).toMatchObject({ status: 'completed', outcome: 'cancelled' });
    expect(ended?.failures.at(-1)?.code).toBe('run.expired');
    expect(soon).toBeTruthy();
  });

  it('refuses a runAt with a delay, an expiry already past, an expiry before its start', async () => {
    await expect(
      start('plain.sync', scope.tenantId, { runAt: new Date(), delaySeconds: 1 }),
    ).rejects.toThrow(/not both/);
    await expect(
      start('plain.sync', scope.tenantId, { expiresAt: new Date(Date.now() - 1000) }),
    ).rejects.toThrow(/already past/);
    await expect(
      start('plain.sync', scope.tenantId, {
        delaySeconds: 60,
        expiresAt: new Date(Date.now() + 30_000),
      }),
    ).rejects.toThrow(/after runAt/);
    expect(await t.db.selectFrom('operation_runs').select('id').execute()).toHaveLength(0);
  });
});

describe('pauses', () => {
  it('a paused tenant’s lane waits with the pause as its reason; lifted, it is admitted', async () => {
    const run = await start('graph.sync', scope.tenantId);
    const pauseId = crypto.randomUUID();
    await t.db
      .insertInto('flow_pauses')
      .values({ id: pauseId, workspace_id: scope.workspaceId, tenant_id: scope.tenantId })
      .execute();
    expect((await admissionPass(deps())).admitted).toHaveLength(0);
    const lane = await t.db.selectFrom('flow_lanes').select('verdict').executeTakeFirstOrThrow();
    expect(lane.verdict).toEqual({ kind: 'paused', pauseId });
    // Another tenant is not held by it.
    const free = await start('graph.sync', other);
    expect(ids((await admissionPass(deps())).admitted)).toEqual([free.id]);
    await t.db.deleteFrom('flow_pauses').where('id', '=', pauseId).execute();
    expect(ids((await admissionPass(deps())).admitted)).toEqual([run.id]);
  });
});

describe('racing admitters', () => {
  it('passes on separate connections never admit past a limit', async () => {
    for (let i = 0; i < 10; i++) await start('graph.sync', scope.tenantId);
    for (let i = 0; i < 10; i++) await start('graph.sync', other);
    const passes = await Promise.all(Array.from({ length: 6 }, () => admissionPass(deps())));
    expect(passes.flatMap((p) => p.admitted)).toHaveLength(3);
    const { rows } = await sql<{ tenant_id: string; n: number }>`
      select tenant_id, count(*)::int as n from operation_runs where not held group by 1`.execute(
      t.db,
    );
    expect(rows.every((r) => r.n <= 2)).toBe(true);
  });
});
