import { afterAll, describe, expect, it } from 'vitest';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { catalog } from '../fixtures/liveness-catalog.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, until } from '../support/db.js';
import { seedScope } from '../support/fixtures.js';

/**
 * Issue #26: a worker is judged by its own beat interval. Its queue type beats every 5 s; an
 * external type of the same catalog beats every second, which once made the reconciler (running
 * every second in the worker itself) take the live worker for dead, force-unlock its jobs and let
 * a handler run twice. A worker judged dead whose beats come back is alive again.
 */

const t = await freshDatabase();
const registry = new OperationRegistry(catalog);
const runs = new RunService({ db: t.db });
let worker: CliProcess | undefined;

afterAll(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
});

const workerRows = () =>
  t.db.selectFrom('workers').select(['id', 'stopped_at', 'heartbeat_ms']).execute();

describe('worker liveness', () => {
  it('is judged by the worker’s own beat, not by an external type’s', async () => {
    const scope = await seedScope(t.db);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { run } = await startRun(
        { db: t.db, runs, registry },
        {
          type: 'liveness.long',
          workspaceId: scope.workspaceId,
          tenantId: scope.tenantId,
          input: { ms: 9_000, tag: `long-${i}` },
          initiatorUserId: scope.userId,
        },
      );
      ids.push(run.id);
    }
    worker = spawnCli(['worker', '--concurrency', '4'], {
      DATABASE_URL: t.url,
      RUNWARDEN_CONFIG: 'test/fixtures/liveness-catalog.ts',
      RUNWARDEN_RECONCILE_INTERVAL_SECONDS: '1',
    });
    await worker.waitFor(/"msg":"worker started"/, 90_000);

    const judgedDead = new Set<string>();
    const finished = await until(
      async () => {
        for (const row of await workerRows()) if (row.stopped_at) judgedDead.add(row.id);
        const rows = await t.db
          .selectFrom('operation_runs')
          .select(['id', 'status', 'outcome', 'attempt'])
          .where('id', 'in', ids)
          .execute();
        return rows.every((r) => r.status === 'completed') && rows;
      },
      { within: 90_000, every: 200, what: 'the long runs to finish' },
    );
    expect([...judgedDead]).toEqual([]);
    expect(finished.map((r) => [r.outcome, r.attempt])).toEqual(ids.map(() => ['succeeded', 1]));
    const starts = await t.db
      .selectFrom('run_events')
      .select(['run_id', 'kind'])
      .where('run_id', 'in', ids)
      .where('kind', 'in', ['running', 'late_completion'])
      .execute();
    expect(starts.filter((e) => e.kind === 'running')).toHaveLength(ids.length);
    expect(starts.filter((e) => e.kind === 'late_completion')).toEqual([]);
    expect(worker.output()).not.toMatch(/unlockedWorkers":\["/);
    expect((await workerRows()).map((r) => r.heartbeat_ms)).toEqual([5_000]);
  }, 180_000);

  it('takes a worker judged dead for alive again when its beats come back', async () => {
    // As a sweep does when the beats stop (a partition, a frozen process): the row says stopped.
    await t.db.updateTable('workers').set({ stopped_at: new Date() }).execute();
    await until(async () => (await workerRows()).every((row) => row.stopped_at === null), {
      within: 30_000,
      every: 200,
      what: "the worker's beats to clear stopped_at",
    });
  }, 60_000);
});
