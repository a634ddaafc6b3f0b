import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/pool.js';
import { RunChangePublisher } from '../../src/runs/run-change-publisher.js';
import { RunService, type StartRun } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';

interface Notice {
  seq: number;
  id: string;
  workspaceId: string;
  tenantId: string | null;
}

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let listener: pg.Client;
const notices: Notice[] = [];

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  listener = new pg.Client({ connectionString: t.url });
  await listener.connect();
  listener.on('notification', (n) => notices.push(JSON.parse(n.payload ?? '{}') as Notice));
  await listener.query('listen runwarden_run_changes');
});
afterAll(async () => {
  await listener?.end();
});

let n = 0;
async function queuedRun() {
  n += 1;
  const start: StartRun = {
    workspaceId: scope.workspaceId,
    tenantId: scope.tenantId,
    type: 'inventory.sync',
    identity: { scope: `publisher-${n}` },
    input: {},
    initiatorUserId: null,
  };
  return (await runs.createOrReuse(start)).run;
}

const noticesOf = (id: string) => notices.filter((x) => x.id === id);

describe('deferred run-change notices', () => {
  it('a deferred transition does not notify in its commit; the publisher announces it once', async () => {
    const deferred = await queuedRun();
    const plain = await queuedRun();
    const announced: string[] = [];
    const collect = { changed: (run: { id: string }) => announced.push(run.id) };

    const running = await runs.markRunning(deferred.id, { workerId: 'w' }, { changes: collect });
    expect(running.moved).toBe(true);
    expect(announced).toEqual([deferred.id]);
    const progress = await runs.reportProgress(
      deferred.id,
      { processed: 1, total: 2 },
      { changes: collect },
    );
    expect(progress.moved).toBe(true);
    // Notices arrive in commit order: once the plain run's is here, the deferred writes sent none.
    await runs.markRunning(plain.id, { workerId: 'w' });
    await until(() => noticesOf(plain.id).length === 2, { what: 'the plain run notices' });
    expect(noticesOf(deferred.id)).toHaveLength(1); // only its creation

    const publisher = new RunChangePublisher(t.db, quietLogger);
    const done = await runs.complete(
      deferred.id,
      { outcome: 'succeeded' },
      { changes: publisher, progress: { processed: 2, total: 2 } },
    );
    expect(done.run).toMatchObject({ status: 'completed', progress_processed: 2 });
    await until(() => noticesOf(deferred.id).length === 2, { what: 'the published notice' });
    await publisher.close();
    const published = noticesOf(deferred.id)[1];
    expect(published).toEqual({
      seq: expect.any(Number),
      id: deferred.id,
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
    });
    expect(published?.seq).toBeGreaterThan(noticesOf(plain.id)[1]?.seq ?? Number.NaN);
  });

  it('a deferral ends with its statement: the next write on the connection notifies', async () => {
    const run = await queuedRun();
    const collect = { changed: () => undefined };
    // One connection, so the next statement reuses the session the deferral was set in.
    const db = createDb(t.url, { max: 1 });
    try {
      const single = new RunService({ db });
      await single.markRunning(run.id, { workerId: 'w' }, { changes: collect });
      await single.reportProgress(run.id, { processed: 1 });
      await until(() => noticesOf(run.id).length === 2, { what: 'the progress notice' });
    } finally {
      await db.destroy();
    }
  });

  it('changes of one run in a batch are announced once', async () => {
    const run = await queuedRun();
    await until(() => noticesOf(run.id).length === 1, { what: 'the creation notice' });
    const before = 1;
    const publisher = new RunChangePublisher(t.db, quietLogger, { batchMs: 60_000 });
    await runs.markRunning(run.id, { workerId: 'w' }, { changes: publisher });
    await runs.reportProgress(run.id, { processed: 1 }, { changes: publisher });
    await publisher.close();
    await until(() => noticesOf(run.id).length > before, { what: 'the batch notice' });
    // A later plain write is the fence: everything before it has arrived.
    await runs.reportProgress(run.id, { processed: 2 });
    await until(() => noticesOf(run.id).length === before + 2, { what: 'the fence notice' });
  });
});

describe('the run-change trigger under a deferral (migration 0012)', () => {
  it('is not even called for a deferred write, and is for a plain one', async () => {
    const run = await queuedRun();
    const calls = await t.db.transaction().execute(async (trx) => {
      await sql`set local track_functions = 'pl'`.execute(trx);
      const count = async () =>
        Number(
          (
            await sql<{ n: string | null }>`select pg_stat_get_xact_function_calls(
              'runwarden_notify_run_change'::regproc)::text as n`.execute(trx)
          ).rows[0]?.n ?? 0,
        );
      await sql`select set_config('runwarden.notify', 'deferred', true)`.execute(trx);
      await sql`update operation_runs set attempt = attempt + 1 where id = ${run.id}`.execute(trx);
      const deferred = await count();
      await sql`select set_config('runwarden.notify', '', true)`.execute(trx);
      await sql`update operation_runs set attempt = attempt + 1 where id = ${run.id}`.execute(trx);
      return { deferred, plain: await count() };
    });
    expect(calls).toEqual({ deferred: 0, plain: 1 });
  });
});
