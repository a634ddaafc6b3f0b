import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDb, createPool } from '../../src/db/pool.js';
import { defineOperation } from '../../src/execution/operation.js';
import { enqueueRun } from '../../src/execution/queue.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { Admitter } from '../../src/flow/admitter.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';

// The admitter when the database drops its connections (a restart, a failover): a pass cut in
// the middle is tried again, and the LISTEN connection is replaced, so held runs are admitted
// by events, never only by the safety pass (set to an hour here).

const APP = 'admitter-under-test';
const limited = defineOperation({
  type: 'recover.sync',
  label: 'Recover sync',
  scope: 'tenant',
  input: z.object({ n: z.number() }),
  identity: (i) => i,
  flow: { concurrency: { perTenant: 10 } },
  run: async () => ({ outcome: 'succeeded' }),
});
const registry = new OperationRegistry([limited]);

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let admitter: Admitter;
let pool: pg.Pool;
let n = 0;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  pool = createPool(t.url, { applicationName: APP, max: 4 });
  const db = createDb(pool);
  admitter = new Admitter({
    db,
    runs: new RunService({ db }),
    types: registry.list(),
    pools: [],
    pgPool: pool,
    logger: quietLogger,
    readyTarget: 100,
    safetyMs: 3_600_000,
    retryMs: 100,
    probeMs: 250,
    enqueue: async (trx, run) => {
      await enqueueRun(trx, {
        taskIdentifier: `runwarden:${run.type}`,
        runId: run.id,
        maxAttempts: 1,
      });
    },
  });
  await admitter.start();
});

afterAll(async () => {
  await admitter?.stop();
  await pool?.end();
});

async function startHeld(): Promise<string> {
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type: 'recover.sync',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { n: ++n },
      initiatorUserId: null,
    },
  );
  expect(run.held).toBe(true);
  return run.id;
}

const admitted = async (id: string) =>
  !(
    await t.db
      .selectFrom('operation_runs')
      .select('held')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).held;

/** Ends every connection of the admitter, as a database restart would. */
async function cutAdmitter(): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
    where application_name = ${APP} and datname = current_database()`.execute(t.db);
  return rows[0]?.n ?? 0;
}

describe('the admitter when the database drops its connections', () => {
  it('listens again: a held start after the cut is admitted by its NOTIFY', async () => {
    const first = await startHeld();
    await until(() => admitted(first), { what: 'the first run admitted' });
    expect(await cutAdmitter()).toBeGreaterThan(0);
    const second = await startHeld();
    await until(() => admitted(second), { what: 'the run started after the cut admitted' });
    // And again once the new LISTEN is up (the wake after reconnecting cannot explain this one).
    await until(
      async () =>
        (
          await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
            where application_name = ${APP} and query ilike 'listen%'`.execute(t.db)
        ).rows[0]?.n === 1,
      { what: 'the LISTEN connection back' },
    );
    const third = await startHeld();
    await until(() => admitted(third), { what: 'the run started on the new LISTEN admitted' });
  });

  it('a pass cut in the middle is tried again', async () => {
    const blocker = new pg.Client({ connectionString: t.url });
    await blocker.connect();
    try {
      // The pass reads flow_clock after the lanes: hold it there, then cut its connection.
      await blocker.query('begin');
      await blocker.query('lock table flow_clock in access exclusive mode');
      const id = await startHeld();
      await until(
        async () =>
          (
            await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
              where application_name = ${APP} and wait_event_type = 'Lock'`.execute(t.db)
          ).rows[0]?.n === 1,
        { what: 'a pass waiting on flow_clock' },
      );
      expect(await cutAdmitter()).toBeGreaterThan(0);
      await blocker.query('rollback');
      await until(() => admitted(id), { what: 'the run admitted by the pass tried again' });
    } finally {
      await blocker.end();
    }
  });
});
