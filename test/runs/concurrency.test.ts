import { beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/pool.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

let t: TestDatabase;
let scope: Scope;
const CONNECTIONS = 40;
/** One RunService per connection: each call below runs on its own PostgreSQL backend. */
let services: RunService[];

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  const dbs: Db[] = Array.from({ length: CONNECTIONS }, () => createDb(t.url, { max: 1 }));
  // Open every connection before the race so they really run at once.
  const pids = await Promise.all(
    dbs.map(
      async (db) =>
        (
          await db
            .selectNoFrom((eb) => eb.fn<number>('pg_backend_pid', []).as('pid'))
            .executeTakeFirstOrThrow()
        ).pid,
    ),
  );
  expect(new Set(pids).size).toBe(CONNECTIONS);
  services = dbs.map((db) => new RunService({ db }));
  return async () => {
    await Promise.all(dbs.map((db) => db.destroy()));
  };
});

describe('concurrent starts', () => {
  it.each([1, 2, 3])(
    '40 identical createOrReuse calls on 40 connections make one run (round %i)',
    async (round) => {
      const results = await Promise.all(
        services.map((runs, i) =>
          runs.createOrReuse({
            workspaceId: scope.workspaceId,
            tenantId: scope.tenantId,
            type: 'inventory.sync',
            identity: { scope: 'all', round },
            input: { scope: 'all' },
            initiatorUserId: i % 2 === 0 ? scope.userId : null,
          }),
        ),
      );
      const ids = new Set(results.map((r) => r.run.id));
      expect(ids.size).toBe(1);
      expect(results.filter((r) => !r.reused)).toHaveLength(1);
      expect(results.filter((r) => r.reused)).toHaveLength(CONNECTIONS - 1);
      const [id] = [...ids];
      const rows = await t.db
        .selectFrom('run_events')
        .select('kind')
        .where('run_id', '=', id!)
        .execute();
      expect(rows.filter((r) => r.kind === 'created')).toHaveLength(1);
      expect(rows.filter((r) => r.kind === 'start_reused')).toHaveLength(CONNECTIONS - 1);
    },
  );
});

describe('concurrent transitions', () => {
  it('complete racing forceFail on two connections: exactly one wins, the other sees already_terminal', async () => {
    const [a, b] = services as [RunService, RunService];
    for (let i = 0; i < 20; i++) {
      const { run } = await a.createOrReuse({
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        type: 'inventory.sync',
        identity: { race: i },
        input: {},
        initiatorUserId: null,
      });
      await a.markRunning(run.id, { workerId: 'w' });
      const [completed, forced] = await Promise.all([
        a.complete(run.id, { outcome: 'succeeded' }),
        b.forceFail(run.id, {
          reasonCode: 'run.heartbeat_lost',
          message: 'The worker stopped reporting.',
          thresholdSeconds: 15,
          evidence: {},
          source: 'test',
        }),
      ]);
      expect([completed.moved, forced.moved].filter(Boolean)).toHaveLength(1);
      const loser = completed.moved ? forced : completed;
      expect(loser).toMatchObject({ moved: false, reason: 'already_terminal' });
      const terminalEvents = await t.db
        .selectFrom('run_events')
        .select('kind')
        .where('run_id', '=', run.id)
        .where('kind', 'in', ['completed', 'reconciled'])
        .execute();
      expect(terminalEvents).toHaveLength(1);
    }
  });

  it('concurrent addCounts from 40 connections lose no increment', async () => {
    const [first] = services as [RunService];
    const { run } = await first.createOrReuse({
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      type: 'inventory.sync',
      identity: { counts: true },
      input: {},
      initiatorUserId: null,
    });
    await Promise.all(services.map((runs) => runs.addCounts(run.id, { items: 1, pages: 2 })));
    expect((await first.get(run.id))?.summary_counts).toEqual({
      items: CONNECTIONS,
      pages: 2 * CONNECTIONS,
    });
  });
});
