import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { wakeAdmitters } from '../../src/flow/lanes.js';
import { RunService } from '../../src/runs/run-service.js';
import { catalog } from '../fixtures/flow-race-catalog.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { overlap, type Span, startsInWindows } from '../support/flow-spans.js';

// Flow control across three real `runwarden worker` processes whose admitters race for the same
// held runs (DESIGN §17): limits checked after the fact from the runs' own started_at /
// completed_at, and a pause that every process honours within 1 s.

const PROCESSES = 3;
const TENANTS = 6;
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let tenants: string[];
const registry = new OperationRegistry(catalog);
const workers: CliProcess[] = [];
let n = 0;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  tenants = [scope.tenantId];
  for (let i = 1; i < TENANTS; i++) {
    const id = crypto.randomUUID();
    await t.db
      .insertInto('tenants')
      .values({ id, workspace_id: scope.workspaceId, slug: `t${i}`, name: `Tenant ${i}` })
      .execute();
    tenants.push(id);
  }
  for (let i = 0; i < PROCESSES; i++) {
    workers.push(
      spawnCli(['worker', '--shutdown-grace', '0.5', '--concurrency', '4'], {
        DATABASE_URL: t.url,
        RUNWARDEN_CONFIG: 'test/fixtures/flow-race-catalog.ts',
      }),
    );
  }
  await Promise.all(workers.map((w) => w.waitFor(/"msg":"worker started"/, 60_000)));
}, 90_000);

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
});

async function start(type: string, tenantId: string, ms: number) {
  n += 1;
  const { run } = await startRun(
    { db: t.db, runs, registry },
    { type, workspaceId: scope.workspaceId, tenantId, input: { n, ms }, initiatorUserId: null },
  );
  return run;
}

async function unfinished(types: string[]): Promise<number> {
  const row = await t.db
    .selectFrom('operation_runs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('type', 'in', types)
    .where('status', '!=', 'completed')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function finishedRuns(type: string) {
  return await t.db
    .selectFrom('operation_runs')
    .select(['id', 'tenant_id', 'outcome', 'started_at', 'completed_at'])
    .where('type', '=', type)
    .execute();
}

const spans = (rows: Awaited<ReturnType<typeof finishedRuns>>): Span[] =>
  rows.map((r) => ({
    key: r.tenant_id as string,
    startedAt: r.started_at as Date,
    completedAt: r.completed_at as Date,
  }));

describe('flow limits with three racing worker processes', () => {
  it('never runs more than a limit allows, never starts more than a rate allows, and runs them all', async () => {
    const started: string[] = [];
    for (let i = 0; i < 30; i++) {
      for (const tenant of tenants) {
        started.push((await start('race.limited', tenant, 100 + (i % 5) * 25)).id);
        if (i < 7) started.push((await start('race.rated', tenant, 20)).id);
      }
    }
    await until(async () => (await unfinished(['race.limited', 'race.rated'])) === 0, {
      within: 40_000,
      every: 200,
      what: 'every limited and rated run to finish',
    });

    const limited = await finishedRuns('race.limited');
    const rated = await finishedRuns('race.rated');
    expect(limited).toHaveLength(30 * TENANTS);
    expect(rated).toHaveLength(7 * TENANTS);
    expect([...limited, ...rated].filter((r) => r.outcome !== 'succeeded')).toEqual([]);
    const o = overlap(spans(limited));
    // Never above a limit. Total is always reached; perTenant only when fair dispatch lets a
    // tenant take a second slot while the others have one (6 tenants for 5 slots: timing), so
    // asserting it reached 2 failed 2 runs in 6 on a loaded machine, before and after any change.
    expect(o.total).toBe(5);
    expect(o.perKey).toBeLessThanOrEqual(2);
    // 3 starts per tenant per 2 s, in every window of 2 s (not only in fixed ones).
    expect(startsInWindows(spans(rated), 2).max).toBe(3);
  });
});

describe('pause and resume across worker processes', () => {
  it('a type paused while the processes run starts nothing 1 s after the pause, and runs again when it is lifted', async () => {
    const types = ['race.fair', 'race.plain'];
    for (let i = 0; i < 15; i++)
      for (const tenant of tenants) for (const type of types) await start(type, tenant, 250);
    await until(
      async () => (await unfinished(types)) <= 2 * 15 * TENANTS - 20 && (await unfinished(types)),
      { within: 20_000, every: 20, what: 'the first runs to finish' },
    );

    await t.db.transaction().execute(async (trx) => {
      for (const type of types)
        await trx
          .insertInto('flow_pauses')
          .values({ id: crypto.randomUUID(), workspace_id: scope.workspaceId, type })
          .execute();
    });
    const pausedAt = Date.now(); // the commit was before this instant
    const heldFrom = pausedAt + 1_000;

    // Running runs finish; admitted ones go back to waiting at their worker's gate.
    const waiting = await until(
      async () => {
        if (Date.now() <= heldFrom) return undefined;
        const active = await t.db
          .selectFrom('operation_runs')
          .select(['status', 'held'])
          .where('type', 'in', types)
          .where('status', '!=', 'completed')
          .execute();
        return active.every((r) => r.status === 'queued' && r.held) ? active.length : undefined;
      },
      { within: 15_000, every: 50, what: 'every unfinished paused run to be held' },
    );
    expect(waiting).toBeGreaterThan(0);
    const heldAt = Date.now();
    expect(await startedBetween(types, heldFrom, heldAt)).toEqual([]);
    expect(await admittedBetween(types, heldFrom, heldAt)).toEqual([]);

    const liftedAt = Date.now();
    await t.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('flow_pauses').where('type', 'in', types).execute();
      await wakeAdmitters(trx);
    });
    await until(async () => (await unfinished(types)) === 0, {
      within: 30_000,
      every: 100,
      what: 'the paused runs to run once the pause is lifted',
    });
    const all = [...(await finishedRuns('race.fair')), ...(await finishedRuns('race.plain'))];
    expect(all.filter((r) => r.outcome !== 'succeeded')).toEqual([]);
    expect(await startedBetween(types, heldFrom, liftedAt)).toEqual([]);
    expect(
      all.filter((r) => (r.started_at as Date).getTime() >= liftedAt).length,
    ).toBeGreaterThanOrEqual(waiting);
  });
});

async function startedBetween(types: string[], from: number, to: number) {
  return await t.db
    .selectFrom('operation_runs')
    .select(['id', 'type', 'started_at'])
    .where('type', 'in', types)
    .where('started_at', '>', new Date(from))
    .where('started_at', '<', new Date(to))
    .execute();
}

async function admittedBetween(types: string[], from: number, to: number) {
  return await t.db
    .selectFrom('run_events')
    .innerJoin('operation_runs', 'operation_runs.id', 'run_events.run_id')
    .select(['run_events.run_id', 'run_events.at'])
    .where('operation_runs.type', 'in', types)
    .where('run_events.kind', '=', 'admitted')
    .where('run_events.at', '>', new Date(from))
    .where('run_events.at', '<', new Date(to))
    .execute();
}
