import { sql } from 'kysely';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerTasks } from '../../src/execution/task-list.js';
import { dailyPrune } from '../../src/lifecycle/retention.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { numberedSync, queuedRuns } from '../support/operations.js';
import { quietLogger, registryOf, runTestWorker } from '../support/worker.js';

const registry = registryOf(numberedSync);
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let worker: Awaited<ReturnType<typeof runTestWorker>> | undefined;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});
afterAll(async () => {
  await worker?.close();
});

const queued = queuedRuns(() => ({ t, scope, runs, registry }));

describe('worker maintenance', () => {
  it('runs the tasks its composer hands it on their cron: the daily prune at 03:15 UTC', async () => {
    const old = await queued();
    await runs.complete(old.id, { outcome: 'succeeded' });
    await sql`update operation_runs set completed_at = now() - interval '91 days' where id = ${old.id}`.execute(
      t.db,
    );
    const prune = dailyPrune(t.db, 90);
    expect(prune).toMatchObject({ identifier: 'prune', match: '15 3 * * *' });
    let probeLogger: Logger | undefined;
    const probe = {
      identifier: 'probe',
      match: '0 * * * *',
      task: async ({ logger }: { logger: Logger }) => {
        probeLogger = logger;
      },
    };
    // An empty registry: the worker takes no run jobs, only maintenance.
    worker = await runTestWorker(t, registryOf(), { maintenance: [prune, probe] });

    const known = await until(
      async () => {
        const rows = await sql<{ identifier: string }>`
          select identifier from graphile_worker._private_known_crontabs order by identifier`.execute(
          t.db,
        );
        return rows.rows.length === 2 && rows.rows.map((r) => r.identifier);
      },
      { what: 'the cron items to be registered' },
    );
    expect(known).toEqual(['runwarden-probe', 'runwarden-prune']);

    // What graphile-worker's cron does at 03:15: queue the task.
    await sql`select graphile_worker.add_job('runwarden:prune', '{}'::json)`.execute(t.db);
    await sql`select graphile_worker.add_job('runwarden:probe', '{}'::json)`.execute(t.db);
    await until(async () => (await runs.get(old.id)) === undefined, {
      within: 10_000,
      what: 'the old run to be pruned',
    });
    await until(() => probeLogger, { what: 'the probe task to run' });
    expect(probeLogger?.bindings()).toMatchObject({ workerId: worker.id });
  });

  it('rejects a maintenance task with a bad name, a bad cron or a name used twice', () => {
    const deps = {
      db: t.db,
      runs,
      registry,
      logger: quietLogger,
      workerId: 'w',
      inflight: new Map<string, AbortController>(),
    };
    const task = async () => undefined;
    const build = (...maintenance: Array<{ identifier: string; match: string }>) =>
      workerTasks(
        deps,
        [],
        maintenance.map((m) => ({ ...m, task })),
      );
    expect(build({ identifier: 'prune', match: '15 3 * * *' }).cronItems).toHaveLength(1);
    expect(() => build({ identifier: 'Prune now', match: '15 3 * * *' })).toThrow(/lowercase/);
    expect(() => build({ identifier: 'prune', match: '61 * * * *' })).toThrow();
    expect(() =>
      build(
        { identifier: 'prune', match: '15 3 * * *' },
        { identifier: 'prune', match: '0 * * * *' },
      ),
    ).toThrow(/defined twice/);
    expect(() => build({ identifier: 'schedule', match: '0 * * * *' })).toThrow(/defined twice/);
  });
});
