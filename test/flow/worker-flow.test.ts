import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation } from '../../src/execution/operation.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { wakeAdmitters } from '../../src/flow/lanes.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { runTestWorker } from '../support/worker.js';

// Flow control with real workers on the real queue: limits checked after the fact from the runs'
// own started_at / completed_at, and a pause a worker finds at the gate.

const input = z.object({ n: z.number() });
const handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 150));
  return { outcome: 'succeeded' as const };
};
const onePerTenant = defineOperation({
  type: 'limited.sync',
  label: 'Limited sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  flow: { concurrency: { perTenant: 1, total: 3 } },
  run: handler,
});
const plain = defineOperation({
  type: 'plain.sync',
  label: 'Plain sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  run: handler,
});

let t: TestDatabase;
let scope: Scope;
let tenants: string[];
let worker: Awaited<ReturnType<typeof runTestWorker>>;
const runs = () => new RunService({ db: t.db });
const registry = new OperationRegistry([onePerTenant, plain]);
let n = 0;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  tenants = [scope.tenantId];
  for (const slug of ['b', 'c', 'd']) {
    const id = crypto.randomUUID();
    await t.db
      .insertInto('tenants')
      .values({ id, workspace_id: scope.workspaceId, slug, name: slug.toUpperCase() })
      .execute();
    tenants.push(id);
  }
  worker = await runTestWorker(t, registry, { concurrency: 8 });
});

afterAll(async () => {
  await worker?.close();
});

async function start(type: string, tenantId: string) {
  n += 1;
  const { run } = await startRun(
    { db: t.db, runs: runs(), registry },
    { type, workspaceId: scope.workspaceId, tenantId, input: { n }, initiatorUserId: null },
  );
  return run;
}

/** The most runs of one tenant (or of all, `null`) that overlapped at any instant. */
async function maxOverlap(type: string): Promise<{ perTenant: number; total: number }> {
  const { rows } = await sql<{ per_tenant: number; total: number }>`
    with spans as (
      select tenant_id, started_at, completed_at from operation_runs
      where type = ${type} and started_at is not null)
    select
      (select coalesce(max(c), 0) from (select (select count(*) from spans b
        where b.tenant_id = a.tenant_id and b.started_at <= a.started_at
          and b.completed_at > a.started_at)::int as c from spans a) x) as per_tenant,
      (select coalesce(max(c), 0) from (select (select count(*) from spans b
        where b.started_at <= a.started_at and b.completed_at > a.started_at)::int as c
        from spans a) y) as total`.execute(t.db);
  const row = rows[0] ?? { per_tenant: 0, total: 0 };
  return { perTenant: Number(row.per_tenant), total: Number(row.total) };
}

describe('limits with a real worker', () => {
  it('runs every held run, never two of one tenant at once, never more than total', async () => {
    const started = [];
    for (let i = 0; i < 4; i++)
      for (const tenant of tenants) started.push(await start('limited.sync', tenant));
    await until(
      async () => {
        const open = await t.db
          .selectFrom('operation_runs')
          .select('id')
          .where('type', '=', 'limited.sync')
          .where('status', '!=', 'completed')
          .execute();
        return open.length === 0;
      },
      { within: 20_000, what: 'every limited run to finish' },
    );
    const outcomes = await t.db
      .selectFrom('operation_runs')
      .select('outcome')
      .where('type', '=', 'limited.sync')
      .execute();
    expect(outcomes.every((r) => r.outcome === 'succeeded')).toBe(true);
    expect(outcomes).toHaveLength(started.length);
    // The limits are never exceeded; how close the runs come to `total` depends on timing (a loaded
    // machine may overlap only 2), so only the ceiling is asserted (as in the process race).
    const overlap = await maxOverlap('limited.sync');
    expect(overlap.perTenant).toBe(1);
    expect(overlap.total).toBeGreaterThanOrEqual(1);
    expect(overlap.total).toBeLessThanOrEqual(3);
  });
});

describe('pauses with a real worker', () => {
  it('a paused tenant’s queued run goes back to waiting at the gate, and runs once resumed', async () => {
    const pauseId = crypto.randomUUID();
    await t.db
      .insertInto('flow_pauses')
      .values({ id: pauseId, workspace_id: scope.workspaceId, tenant_id: tenants[1] as string })
      .execute();
    const paused = await start('plain.sync', tenants[1] as string);
    const free = await start('plain.sync', tenants[2] as string);
    await until(async () => (await runs().get(free.id))?.status === 'completed', {
      within: 10_000,
      what: 'the other tenant’s run',
    });
    const held = await until(
      async () => {
        const run = await runs().get(paused.id);
        return run?.held ? run : undefined;
      },
      { within: 10_000, what: 'the paused run to be held' },
    );
    expect(held.status).toBe('queued');
    const events = await t.db
      .selectFrom('run_events')
      .select('kind')
      .where('run_id', '=', paused.id)
      .execute();
    expect(events.map((e) => e.kind)).toContain('held');
    await t.db.deleteFrom('flow_pauses').where('id', '=', pauseId).execute();
    await wakeAdmitters(t.db);
    const done = await until(
      async () => {
        const run = await runs().get(paused.id);
        return run?.status === 'completed' ? run : undefined;
      },
      { within: 5_000, what: 'the resumed run to finish' },
    );
    expect(done.outcome).toBe('succeeded');
  });
});
