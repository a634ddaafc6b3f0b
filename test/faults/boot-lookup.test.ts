import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../../src/catalog/index.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

/**
 * graphile-worker 0.16 caches its task-identifier lookup for the life of a runner, a failed one
 * included: a worker whose lookup failed while it booted (connections exhausted, the connection
 * dropped) kept live slots and fresh heartbeats and ran nothing. Here a real `runwarden worker`
 * boots while the lookup's table is locked; the database then drops the lookup's connection.
 * Once the database answers, the worker must run jobs again, or say so at warn and exit non-zero.
 */

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let locker: pg.Client;
let watcher: pg.Client;
let worker: CliProcess | undefined;
const registry = new OperationRegistry(demoCatalog());

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  locker = new pg.Client({ connectionString: t.url });
  await locker.connect();
  watcher = new pg.Client({ connectionString: t.url });
  await watcher.connect();
});
afterAll(async () => {
  worker?.child.kill('SIGKILL');
  await locker?.end();
  await watcher?.end();
});

async function blockedLookup(): Promise<number | undefined> {
  // Not the locker: inside its transaction pg_stat_activity is a snapshot.
  const { rows } = await watcher.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()
        and wait_event_type = 'Lock' and query like '%\\_private\\_tasks%'`,
  );
  return rows[0]?.pid;
}

describe('a worker whose task lookup failed while it booted', () => {
  it('runs jobs once the database answers, or exits non-zero after saying so at warn', async () => {
    await locker.query('begin');
    await locker.query('lock table graphile_worker._private_tasks in access exclusive mode');
    worker = spawnCli(['worker', '--concurrency', '2', '--shutdown-grace', '0.5'], {
      DATABASE_URL: t.url,
      RUNWARDEN_CONFIG: 'test/fixtures/demo-catalog.ts',
    });
    const pid = await until(blockedLookup, { within: 30_000, what: "the worker's task lookup" });
    await locker.query('select pg_terminate_backend($1)', [pid]);
    await locker.query('commit');

    const { run } = await startRun(
      { db: t.db, runs, registry },
      {
        type: 'demo.sleep',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { seconds: 0, tag: 'after-boot' },
        initiatorUserId: scope.userId,
      },
    );
    let exit: { code: number | null } | undefined;
    void worker.exited.then(({ code }) => {
      exit = { code };
    });
    const outcome = await until(
      async () => {
        const current = await runs.get(run.id);
        if (current?.status === 'completed') return { completed: current.outcome };
        return exit;
      },
      { within: 30_000, what: 'the run to complete or the worker to exit' },
    );
    const output = worker.output();
    if ('completed' in outcome) {
      expect(outcome.completed).toBe('succeeded');
      expect(output).toMatch(/"level":40,.*restarting their runner/);
    } else {
      expect(outcome.code).not.toBe(0);
      expect(output).toMatch(/"level":40,/);
    }
  }, 90_000);
});
