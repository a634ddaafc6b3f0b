import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { startReconcilerLoop } from '../../src/lifecycle/reconciler.js';
import { RunService } from '../../src/runs/run-service.js';
import { catalog } from '../fixtures/fast-catalog.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';

// Real worker processes, really killed; the reconciler sweeps from this process every 0.5 s.
const registry = new OperationRegistry(catalog);
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let loop: { stop(): Promise<void> };
const children: CliProcess[] = [];

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  loop = startReconcilerLoop({ db: t.db, runs, registry, logger: quietLogger }, 0.5);
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.child.kill('SIGCONT');
    child.child.kill('SIGKILL');
    await child.exited;
  }
});
afterAll(async () => {
  await loop.stop();
});

async function workerWithRun(seconds: number, tag: string, type = 'test.slow') {
  const cli = spawnCli(['worker', '--concurrency', '2'], {
    DATABASE_URL: t.url,
    RUNWARDEN_CONFIG: 'test/fixtures/fast-catalog.ts',
    RUNWARDEN_RECONCILE_INTERVAL_SECONDS: '3600', // only this test's loop sweeps
  });
  children.push(cli);
  const workerId = (
    JSON.parse(await cli.waitFor(/"msg":"worker started"/, 30_000)) as { workerId: string }
  ).workerId;
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type,
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { seconds, tag },
      initiatorUserId: scope.userId,
    },
  );
  await until(async () => (await runs.get(run.id))?.worker_id === workerId, {
    within: 10_000,
    what: 'the worker to run it',
  });
  return { cli, workerId, runId: run.id };
}

describe('crash bound', () => {
  it('a worker killed with SIGKILL mid-run leaves a run that is failed and reconciled within 3 × heartbeat + one sweep', async () => {
    const { cli, runId, workerId } = await workerWithRun(60, 'sigkill');
    cli.child.kill('SIGKILL');
    const run = await until(
      async () => {
        const r = await runs.get(runId);
        return r?.status === 'completed' ? r : undefined;
      },
      { within: 10_000, what: 'the reconciler to end the run' },
    );
    // Judged by the bound's rule (3 × the 1 s heartbeat), not by a clock in the test: how fast it
    // happens is `npm run bench -- crash`.
    expect(run).toMatchObject({
      outcome: 'failed',
      reconciliation: {
        reasonCode: 'run.heartbeat_lost',
        source: 'reconciler',
        thresholdSeconds: 3,
      },
    });
    // Its job can never run again: the reconciler deleted it with the verdict.
    const job =
      await sql`select id from graphile_worker._private_jobs where id = ${run.queue_job_id}`.execute(
        t.db,
      );
    expect(job.rows).toEqual([]);
    // And the dead worker is let go: marked stopped, no queue job left locked by its queue ids.
    const dead = await until(
      async () => {
        const row = await t.db
          .selectFrom('workers')
          .select(['stopped_at', 'queue_worker_ids'])
          .where('id', '=', workerId)
          .executeTakeFirst();
        return row?.stopped_at ? row : undefined;
      },
      { within: 10_000, what: 'the reconciler to mark the killed worker stopped' },
    );
    const locked = await sql<{ n: string }>`
      select count(*) as n from graphile_worker._private_jobs
      where locked_by = any(${dead.queue_worker_ids}::text[])`.execute(t.db);
    expect(Number(locked.rows[0]?.n)).toBe(0);
  });

  it('a worker stopped with SIGSTOP past the bound has its run reconciled; on resume its result is recorded, not applied', async () => {
    const { cli, runId } = await workerWithRun(5, 'sigstop');
    cli.child.kill('SIGSTOP');
    const run = await until(
      async () => {
        const r = await runs.get(runId);
        return r?.status === 'completed' ? r : undefined;
      },
      { within: 10_000, what: 'the reconciler to end the stopped run' },
    );
    expect(run.reconciliation?.reasonCode).toBe('run.heartbeat_lost');
    cli.child.kill('SIGCONT');
    const late = await until(
      async () => {
        const events = await t.db
          .selectFrom('run_events')
          .select(['kind', 'payload'])
          .where('run_id', '=', runId)
          .execute();
        return events.find((e) => e.kind === 'late_completion');
      },
      { within: 15_000, what: 'the late completion' },
    );
    expect(late.payload).toMatchObject({ outcome: 'succeeded' });
    const after = await runs.get(runId);
    expect(after).toMatchObject({ outcome: 'failed', summary_counts: {} }); // the late counts were not applied
  });

  it('no false positive: a handler that blocks its event loop for 10 s at default settings is not reconciled', async () => {
    const { runId } = await workerWithRun(10, 'blocked', 'test.blocking');
    // The heartbeat thread keeps beating while the handler holds the main thread.
    const beats = new Set<number>();
    const run = await until(
      async () => {
        const r = await runs.get(runId);
        if (r?.status === 'running' && r.last_heartbeat_at)
          beats.add(r.last_heartbeat_at.getTime());
        return r?.status === 'completed' ? r : undefined;
      },
      { within: 20_000, every: 200, what: 'the blocking run to finish' },
    );
    expect(run).toMatchObject({ outcome: 'succeeded', reconciliation: null });
    expect(beats.size).toBeGreaterThanOrEqual(5); // ~1 beat/s over 10 s (the fixture's fastest type beats every 1 s)
  });
});
