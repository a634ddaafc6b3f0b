import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/pool.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { RunChangePublisher } from '../../src/runs/run-change-publisher.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { numberedSync, queuedRuns } from '../support/operations.js';
import { quietLogger } from '../support/worker.js';

// The worker's start of an attempt is a durable commit (a start lost in a crash left a handler
// running under a `queued` run: test/faults/start-crash.test.ts), and nothing it runs leaves
// synchronous commit off for what follows on its connection.
let t: TestDatabase;
let scope: Scope;
let one: Db;
let runs: RunService;
const registry = new OperationRegistry([numberedSync]);
const queued = queuedRuns(() => ({ t, scope, runs, registry }));

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  one = createDb(t.url, { max: 1 });
  runs = new RunService({ db: one });
  // The test cluster runs without durable commits for speed: this connection is set as production is.
  await sql`set synchronous_commit = on`.execute(one);
  return async () => await one.destroy();
});

const synchronousCommit = async () =>
  (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(one)).rows[0]
    ?.synchronous_commit;

describe("the worker's start of an attempt", () => {
  it('moves the run, and leaves synchronous commit on for what follows on its connection', async () => {
    const changes = new RunChangePublisher(one, quietLogger);
    try {
      const run = await queued();
      const started = await runs.markRunning(run.id, { workerId: 'w1' }, { changes });
      expect(started.moved).toBe(true);
      expect(await synchronousCommit()).toBe('on');
      const done = await runs.complete(run.id, { outcome: 'succeeded' }, { changes });
      expect(done.run?.status).toBe('completed');
      expect(await synchronousCommit()).toBe('on');
    } finally {
      await changes.close();
    }
  });

  it('inside a caller’s transaction is a plain durable write (no setting at all)', async () => {
    const run = await queued();
    await one.transaction().execute(async (trx) => {
      const started = await runs.markRunning(run.id, { workerId: 'w1' }, { trx });
      expect(started.moved).toBe(true);
      const inside = await sql<{
        s: string;
      }>`select current_setting('synchronous_commit') as s`.execute(trx);
      expect(inside.rows[0]?.s).toBe('on');
    });
  });
});
