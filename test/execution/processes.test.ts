import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../../src/catalog/index.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

// Real `runwarden worker` child processes on the test database, stopped and killed for real.
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
const registry = new OperationRegistry(demoCatalog());
const children: CliProcess[] = [];

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.child.kill('SIGKILL');
    await child.exited;
  }
});
afterAll(async () => {
  for (const child of children) child.child.kill('SIGKILL');
});

async function spawnWorker(): Promise<{ cli: CliProcess; workerId: string }> {
  const cli = spawnCli(['worker', '--shutdown-grace', '0.5', '--concurrency', '2'], {
    DATABASE_URL: t.url,
    RUNWARDEN_CONFIG: 'test/fixtures/demo-catalog.ts',
  });
  children.push(cli);
  const line = await cli.waitFor(/"msg":"worker started"/, 30_000);
  return { cli, workerId: (JSON.parse(line) as { workerId: string }).workerId };
}

async function sleepRun(seconds: number, tag: string) {
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type: 'demo.sleep',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { seconds, tag },
      initiatorUserId: scope.userId,
    },
  );
  return run;
}

describe('worker processes', () => {
  it('graceful shutdown hands a running run back, and another worker process picks it up', async () => {
    const first = await spawnWorker();
    const run = await sleepRun(3, 'handback');
    await until(async () => (await runs.get(run.id))?.worker_id === first.workerId, {
      within: 10_000,
      what: 'first worker to run it',
    });

    first.cli.child.kill('SIGTERM');
    expect((await first.cli.exited).code).toBe(0);
    const handedBack = await runs.get(run.id);
    expect(handedBack).toMatchObject({ status: 'queued', worker_id: null });
    expect(first.cli.output()).toMatch(/run handed back to the queue/);

    const second = await spawnWorker();
    const done = await until(
      async () => {
        const r = await runs.get(run.id);
        return r?.status === 'completed' ? r : undefined;
      },
      { within: 15_000, what: 'the second worker to finish it' },
    );
    expect(done.outcome).toBe('succeeded');
    const timeline = await t.db
      .selectFrom('run_events')
      .select(['kind', 'payload'])
      .where('run_id', '=', run.id)
      .orderBy('id')
      .execute();
    expect(timeline.map((e) => e.kind)).toEqual([
      'created',
      'running',
      'handed_back',
      'running',
      'completed',
    ]);
    expect(timeline[1]?.payload).toMatchObject({ workerId: first.workerId });
    expect(timeline[2]?.payload).toMatchObject({
      reason: 'worker_shutdown',
      message: expect.stringMatching(/worker shut down/),
    });
    expect(done.failures).toEqual([]);
    expect(timeline[3]?.payload).toMatchObject({ workerId: second.workerId });
    second.cli.child.kill('SIGINT');
    expect((await second.cli.exited).code).toBe(0);
  });

  it('a worker killed with SIGKILL leaves its run running and its job locked, for the reconciler', async () => {
    const victim = await spawnWorker();
    const run = await sleepRun(30, 'killed');
    const lockedBy = async () =>
      (
        await sql<{
          locked_by: string | null;
        }>`select locked_by from graphile_worker.jobs where key = ${run.id}`.execute(t.db)
      ).rows[0]?.locked_by;
    const queueIds = async () =>
      (
        await t.db
          .selectFrom('workers')
          .select('queue_worker_ids')
          .where('id', '=', victim.workerId)
          .executeTakeFirstOrThrow()
      ).queue_worker_ids;
    // The process records its queue ids as its job slots start, apart from the pickup: on a busy
    // machine the run may be running before they are written, so wait for both.
    await until(
      async () =>
        (await runs.get(run.id))?.worker_id === victim.workerId &&
        (await queueIds()).includes((await lockedBy()) ?? ''),
      { within: 10_000, what: 'the victim to run it, its queue ids recorded' },
    );
    victim.cli.child.kill('SIGKILL');
    await victim.cli.exited;
    const after = await runs.get(run.id);
    expect(after).toMatchObject({ status: 'running', worker_id: victim.workerId });
    expect(await queueIds()).toContain(await lockedBy());
    // The lifecycle issue's reconciler turns this into a terminal run within 20 s; that is tested there.
  });
});
