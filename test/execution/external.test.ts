import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../../src/catalog/index.js';
import { reportExternal } from '../../src/execution/external.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
const registry = new OperationRegistry(demoCatalog());

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});

async function startRestore(restoreRunId: string) {
  return await startRun(
    { db: t.db, runs, registry },
    {
      type: 'restore.execute',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { restoreRunId },
      initiatorUserId: scope.userId,
      context: { restoreRunId },
    },
  );
}

describe('external runs (restore.execute)', () => {
  it('are created without a queue job and follow the source system through its states', async () => {
    const { run } = await startRestore('r-1');
    const jobs = await sql<{
      n: string;
    }>`select count(*) as n from graphile_worker.jobs where key = ${run.id}`.execute(t.db);
    expect(Number(jobs.rows[0]?.n)).toBe(0);
    expect(run).toMatchObject({ status: 'queued', context: { restoreRunId: 'r-1' } });

    const previewed = await reportExternal({ db: t.db, runs, registry }, run.id, {
      state: 'previewed',
    });
    expect(previewed.run).toMatchObject({ status: 'queued', outcome: 'pending' });
    expect(previewed.run?.last_heartbeat_at).not.toBeNull();

    const executing = await reportExternal({ db: t.db, runs, registry }, run.id, {
      state: 'executing',
      progress: { processed: 3, total: 10 },
      counts: { items: 3 },
    });
    expect(executing.run).toMatchObject({
      status: 'running',
      worker_id: 'external',
      progress_processed: 3,
      summary_counts: { items: 3 },
    });

    const done = await reportExternal({ db: t.db, runs, registry }, run.id, {
      state: 'completed_with_errors',
      progress: { processed: 10, total: 10 },
      counts: { items: 9, failed: 1 },
      failures: [{ code: 'restore.item_failed', message: 'Policy X could not be restored' }],
    });
    expect(done.run).toMatchObject({
      status: 'completed',
      outcome: 'partially_succeeded',
      summary_counts: { items: 9, failed: 1 },
    });
  });

  it('refuses reports that would move a run backwards, touch a terminal run, or name an unknown state', async () => {
    const { run } = await startRestore('r-2');
    await expect(
      reportExternal({ db: t.db, runs, registry }, run.id, { state: 'exploded' }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    await reportExternal({ db: t.db, runs, registry }, run.id, { state: 'executing' });
    await expect(
      reportExternal({ db: t.db, runs, registry }, run.id, { state: 'previewed' }),
    ).rejects.toMatchObject({ code: 'conflict' });
    await reportExternal({ db: t.db, runs, registry }, run.id, { state: 'failed' });
    await expect(
      reportExternal({ db: t.db, runs, registry }, run.id, { state: 'completed' }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect((await runs.get(run.id))?.outcome).toBe('failed');
  });

  it('refuses reports for queue-executed types', async () => {
    const { run } = await startRun(
      { db: t.db, runs, registry },
      {
        type: 'demo.sleep',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { seconds: 1 },
        initiatorUserId: null,
      },
    );
    await expect(
      reportExternal({ db: t.db, runs, registry }, run.id, { state: 'succeeded' }),
    ).rejects.toMatchObject({ code: 'conflict' });
  });
});
