import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb, createPool, type Db } from '../../src/db/pool.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { numberedSync, queuedRuns } from '../support/operations.js';

// A run's transitions are named prepared statements on their connection (planned once), and a
// migration that adds a column while workers hold them prepared (a rolling deploy) breaks nothing.
let t: TestDatabase;
let scope: Scope;
/** One connection, so every statement below shares it and its prepared statements. */
let one: Db;
let runs: RunService;
const registry = new OperationRegistry([numberedSync]);
const queued = queuedRuns(() => ({ t, scope, runs, registry }));

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  one = createDb(t.url, { max: 1 });
  runs = new RunService({ db: one });
  return async () => await one.destroy();
});

const preparedOnConnection = async () =>
  (
    await sql<{ name: string; statement: string }>`
      select name, statement from pg_prepared_statements where name like 'rw_%'`.execute(one)
  ).rows;

describe('prepared transitions', () => {
  it('are sent as named prepared statements, other statements are not', async () => {
    const run = await queued();
    expect((await runs.markRunning(run.id, { workerId: 'w1' })).moved).toBe(true);
    const prepared = await preparedOnConnection();
    expect(prepared.some((p) => p.statement.includes('"status" = $1, "attempt"'))).toBe(true);
    // The start path's insert and plain reads stay unnamed.
    expect(prepared.every((p) => p.statement.startsWith('/* runwarden:prepared */'))).toBe(true);
  });

  it('keep working after a migration adds a column to operation_runs', async () => {
    for (let i = 0; i < 6; i++) {
      // Past five executions PostgreSQL may switch to the generic plan: the one kept.
      const run = await queued();
      await runs.markRunning(run.id, { workerId: 'w1' });
      await runs.complete(run.id, { outcome: 'succeeded' });
    }
    await sql`alter table operation_runs add column added_by_a_later_release text`.execute(t.db);
    try {
      const run = await queued();
      const started = await runs.markRunning(run.id, { workerId: 'w1' });
      expect(started.moved).toBe(true);
      const done = await runs.complete(run.id, { outcome: 'succeeded' });
      expect(done.moved).toBe(true);
      expect(done.run?.status).toBe('completed');
      expect(done.run && 'added_by_a_later_release' in done.run).toBe(false);
    } finally {
      await sql`alter table operation_runs drop column added_by_a_later_release`.execute(t.db);
    }
  });

  it("leave the pool's other users alone: callbacks and config objects still work", async () => {
    // graphile-worker shares the pool and calls query(text, values, callback): a client patched
    // for Kysely must still call it back (a lost callback kept a client checked out forever).
    const pool = createPool(t.url, { max: 1 });
    const db = createDb(pool);
    try {
      await sql`select 1`.execute(db);
      const client = await pool.connect();
      const viaCallback = await new Promise<unknown>((resolve, reject) =>
        client.query('select $1::int as n', [7], (error, result) =>
          error ? reject(error) : resolve(result.rows[0]),
        ),
      );
      expect(viaCallback).toEqual({ n: 7 });
      const named = await client.query({ name: 'theirs', text: 'select 2 as n', values: [] });
      expect(named.rows[0]).toEqual({ n: 2 });
      client.release();
    } finally {
      await db.destroy();
    }
  });
});
