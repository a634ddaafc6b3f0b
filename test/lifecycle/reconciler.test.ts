import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDb } from '../../src/db/pool.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { defineOperation, type ExternalState } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { reconcile, staleCandidatesQuery } from '../../src/lifecycle/reconciler.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { numberedSync, queuedRuns } from '../support/operations.js';
import { quietLogger, registryOf } from '../support/worker.js';

// heartbeat 5 s → lost after 15 s; queued stale after 900 s; running stale after 1200 s.
const sync = numberedSync;
/** An external type whose source of truth answers for it: the reconciler asks before failing. */
const sourceStates = new Map<string, ExternalState>();
const restore = defineOperation({
  type: 'restore.execute',
  label: 'Restore',
  scope: 'tenant',
  execution: 'external',
  input: z.object({ n: z.number() }),
  identity: (i) => i,
  reconcile: async (run) => sourceStates.get(run.id),
});
const registry = registryOf(sync, restore);

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
const deps = () => ({ db: t.db, runs, registry, logger: quietLogger });

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});

const queued = queuedRuns(() => ({ t, scope, runs, registry }));
async function running(workerId = 'w-1') {
  const run = await queued();
  await runs.markRunning(run.id, { workerId });
  return run;
}
/** Back-dates a run instead of waiting: the reconciler reads the clock, the row says how old. */
async function age(
  id: string,
  seconds: { created?: number; started?: number; heartbeat?: number },
) {
  const at = (s: number | undefined) =>
    s === undefined ? undefined : new Date(Date.now() - s * 1000);
  await sql`update operation_runs set
      created_at = coalesce(${at(seconds.created) ?? null}::timestamptz, created_at),
      started_at = coalesce(${at(seconds.started) ?? null}::timestamptz, started_at),
      last_heartbeat_at = coalesce(${at(seconds.heartbeat) ?? null}::timestamptz, last_heartbeat_at)
    where id = ${id}`.execute(t.db);
}
async function reconciledEvents(id: string) {
  return await t.db
    .selectFrom('run_events')
    .select('kind')
    .where('run_id', '=', id)
    .where('kind', '=', 'reconciled')
    .execute();
}
async function jobCount(id: string) {
  const r = await sql<{
    n: string;
  }>`select count(*) as n from graphile_worker._private_jobs where key = ${id}`.execute(t.db);
  return Number(r.rows[0]?.n);
}

describe('reconciler sweep', () => {
  it('fails each kind of stale run with its reason and evidence, and leaves fresh runs alone', async () => {
    const freshQueued = await queued();
    const freshRunning = await running();
    const staleQueued = await queued();
    await age(staleQueued.id, { created: 901 });
    const lost = await running('w-lost');
    await age(lost.id, { started: 60, heartbeat: 16 });
    const tooLong = await running();
    await age(tooLong.id, { started: 1201, heartbeat: 1 });

    const report = await reconcile(deps());
    expect(report.swept).toBe(true);
    const byRun = new Map(report.actions.map((a) => [a.runId, a]));
    expect(byRun.get(staleQueued.id)).toMatchObject({
      reasonCode: 'run.stale_queued',
      result: 'failed',
      thresholdSeconds: 900,
    });
    expect(byRun.get(lost.id)).toMatchObject({
      reasonCode: 'run.heartbeat_lost',
      result: 'failed',
      thresholdSeconds: 15,
    });
    expect(byRun.get(tooLong.id)).toMatchObject({
      reasonCode: 'run.stale_running',
      result: 'failed',
      thresholdSeconds: 1200,
    });
    expect(byRun.has(freshQueued.id)).toBe(false);
    expect(byRun.has(freshRunning.id)).toBe(false);

    const lostRow = await runs.get(lost.id);
    expect(lostRow).toMatchObject({
      status: 'completed',
      outcome: 'failed',
      failures: [{ code: 'run.heartbeat_lost', message: 'The worker stopped reporting.' }],
      reconciliation: {
        reasonCode: 'run.heartbeat_lost',
        thresholdSeconds: 15,
        source: 'reconciler',
        evidence: { workerId: 'w-lost' },
      },
    });
    expect(lostRow?.reconciliation?.lastHeartbeatAt).toMatch(/Z$/);
    expect((await runs.get(freshQueued.id))?.status).toBe('queued');
    expect((await runs.get(freshRunning.id))?.status).toBe('running');
    expect(await jobCount(staleQueued.id)).toBe(0); // its queue job went in the same transaction

    const second = await reconcile(deps());
    expect(second.actions.filter((a) => a.result === 'failed')).toEqual([]);
    for (const id of [staleQueued.id, lost.id, tooLong.id])
      expect(await reconciledEvents(id)).toHaveLength(1);
  });

  it('after (re)connecting judges no heartbeat for one loss window; a run it ends loses its locked job too', async () => {
    const run = await running();
    // A running run's job is locked by the slot that took it (here: one that died).
    await sql`update graphile_worker._private_jobs set locked_at = now(), locked_by = 'dead-slot'
      where key = ${run.id}`.execute(t.db);
    expect(await jobCount(run.id)).toBe(1);
    await age(run.id, { heartbeat: 60 });
    const action = (report: Awaited<ReturnType<typeof reconcile>>) =>
      report.actions.find((a) => a.runId === run.id);

    // Back 10 s ago: under the 15 s loss window, the worker's beats may not have landed yet.
    const early = await reconcile(deps(), { connectedAt: new Date(Date.now() - 10_000) });
    expect(action(early)).toMatchObject({ reasonCode: 'run.heartbeat_lost', result: 'skipped' });
    expect((await runs.get(run.id))?.status).toBe('running');

    const later = await reconcile(deps(), { connectedAt: new Date(Date.now() - 16_000) });
    expect(action(later)).toMatchObject({ reasonCode: 'run.heartbeat_lost', result: 'failed' });
    expect(await runs.get(run.id)).toMatchObject({ status: 'completed', outcome: 'failed' });
    expect(await jobCount(run.id)).toBe(0); // removed in the same transaction, locked or not
  });

  it('fails a run whose last heartbeat carries microseconds (written by SQL now())', async () => {
    const run = await running();
    await sql`update operation_runs set last_heartbeat_at = now() - interval '30.123456 seconds' where id = ${run.id}`.execute(
      t.db,
    );
    await reconcile(deps());
    expect((await runs.get(run.id))?.reconciliation?.reasonCode).toBe('run.heartbeat_lost');
  });

  it('asks the type adapter first: the source of truth settles or keeps the run', async () => {
    let restores = 0;
    const startRestore = async () =>
      (
        await startRun(
          { db: t.db, runs, registry },
          {
            type: 'restore.execute',
            workspaceId: scope.workspaceId,
            tenantId: scope.tenantId,
            input: { n: ++restores },
            initiatorUserId: null,
          },
        )
      ).run;
    const finished = await startRestore();
    const alive = await startRestore();
    const silent = await startRestore();
    for (const run of [finished, alive, silent]) await age(run.id, { created: 2000 });
    sourceStates.set(finished.id, { status: 'completed', outcome: 'succeeded' });
    sourceStates.set(alive.id, { status: 'running' });

    const report = await reconcile(deps());
    const byRun = new Map(report.actions.map((a) => [a.runId, a]));
    expect(byRun.get(finished.id)).toMatchObject({ result: 'adapter' });
    expect(await runs.get(finished.id)).toMatchObject({
      outcome: 'succeeded',
      reconciliation: null,
    });
    expect(byRun.get(alive.id)).toMatchObject({ result: 'skipped' });
    expect((await runs.get(alive.id))?.status).toBe('queued'); // heard from: not stale any more
    expect(byRun.get(silent.id)).toMatchObject({
      result: 'failed',
      reasonCode: 'run.stale_queued',
    });
  });

  it('dry run reports and changes nothing', async () => {
    const run = await running();
    await age(run.id, { heartbeat: 100 });
    const report = await reconcile(deps(), { dryRun: true });
    expect(report.actions).toContainEqual(
      expect.objectContaining({ runId: run.id, result: 'would_fail' }),
    );
    expect((await runs.get(run.id))?.status).toBe('running');
    await reconcile(deps()); // tidy up for the next test
  });

  it.each([true, false])(
    'two sweeps on two connections at once transition each run once (lock: %s)',
    async (lock) => {
      const stale = await Promise.all(Array.from({ length: 20 }, () => running()));
      for (const run of stale) await age(run.id, { heartbeat: 30 });
      const other = createDb(t.url, { max: 2 });
      try {
        const [a, b] = await Promise.all([
          reconcile(deps(), { lock }),
          reconcile({ ...deps(), db: other, runs: new RunService({ db: other }) }, { lock }),
        ]);
        const failed = [...a.actions, ...b.actions]
          .filter((x) => x.result === 'failed')
          .map((x) => x.runId);
        expect(failed.sort()).toEqual(stale.map((r) => r.id).sort());
        for (const run of stale) {
          expect(await reconciledEvents(run.id)).toHaveLength(1);
          const notices = await t.db
            .selectFrom('notifications')
            .select('id')
            .where('run_id', '=', run.id)
            .execute();
          expect(notices).toHaveLength(1); // notified once
        }
        if (lock) expect([a.swept, b.swept]).toContain(true);
      } finally {
        await other.destroy();
      }
    },
  );

  it('does not fail a queued run whose job a worker holds right now', async () => {
    const run = await queued();
    await age(run.id, { created: 2000 });
    await sql`update graphile_worker._private_jobs set locked_at = now(), locked_by = 'w-x' where key = ${run.id}`.execute(
      t.db,
    );
    const report = await reconcile(deps());
    expect(report.actions.find((a) => a.runId === run.id)).toMatchObject({ result: 'skipped' });
    expect((await runs.get(run.id))?.status).toBe('queued');
  });

  it('releases the queue locks of workers whose heartbeat is gone', async () => {
    const id = `host:1:${uuidv7().slice(-6)}`;
    const old = new Date(Date.now() - 60_000);
    await t.db
      .insertInto('workers')
      .values({
        id,
        host: 'host',
        pid: 1,
        queue_worker_ids: ['worker-dead-1'],
        started_at: old,
        last_seen_at: old,
      })
      .execute();
    const report = await reconcile(deps());
    expect(report.unlockedWorkers).toContain(id);
    const row = await t.db
      .selectFrom('workers')
      .select('stopped_at')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.stopped_at).not.toBeNull();
  });

  it('finds candidates through the partial active index, whatever the history', async () => {
    await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome, identity_hash, created_at, updated_at, completed_at)
      select gen_random_uuid(), ${scope.workspaceId}, ${scope.tenantId}, 'inventory.sync', 'completed', 'succeeded',
             md5(g::text), now() - interval '1 day', now(), now()
      from generate_series(1, 30000) g`.execute(t.db);
    await sql`analyze operation_runs`.execute(t.db);
    const plan = await staleCandidatesQuery({ db: t.db, registry }, new Date()).explain();
    const text = plan.map((row) => Object.values(row).join(' ')).join('\n');
    // Either partial index of active runs (the list of them, or the identity one) follows the active set.
    expect(text).toMatch(/operation_runs_(unheld_active_idx|active_idx|active_identity_key)/);
    expect(text).not.toMatch(/Seq Scan on operation_runs/);
  });

  it('leaves a backlog held for admission out of its scan (held runs are never stale)', async () => {
    await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome, identity_hash, held, created_at, updated_at)
      select gen_random_uuid(), ${scope.workspaceId}, ${scope.tenantId}, 'inventory.sync', 'queued', 'pending',
             md5('held' || g::text), true, now() - interval '1 day', now()
      from generate_series(1, 30000) g`.execute(t.db);
    await sql`analyze operation_runs`.execute(t.db);
    const plan = await staleCandidatesQuery({ db: t.db, registry }, new Date()).explain();
    const text = plan.map((row) => Object.values(row).join(' ')).join('\n');
    expect(text).toMatch(/operation_runs_unheld_active_idx/);
    const candidates = await staleCandidatesQuery({ db: t.db, registry }, new Date()).execute();
    expect(candidates.filter((run) => run.held)).toEqual([]);
  });
});
