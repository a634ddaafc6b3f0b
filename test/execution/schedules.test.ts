import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog, demoSchedules } from '../../src/catalog/index.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import {
  runScheduleTick,
  type ScheduleDefinition,
  scheduleCronItems,
} from '../../src/execution/schedules.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger, runTestWorker } from '../support/worker.js';

const registry = new OperationRegistry(
  demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }),
);
const nightly: ScheduleDefinition = demoSchedules[0]!; // nightly backup of every active tenant

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

describe('schedules', () => {
  it('a tick starts one system run per active tenant; a tick while it is active reuses it', async () => {
    const deps = { db: t.db, runs, registry, logger: quietLogger };
    const first = await runScheduleTick(deps, nightly);
    expect(first).toMatchObject({ reused: [], failed: [] });
    expect(first.started).toHaveLength(1); // the inactive tenant gets none
    const run = await runs.get(first.started[0]!);
    expect(run).toMatchObject({
      tenant_id: scope.tenantId,
      initiator_user_id: null,
      context: { scheduleId: 'nightly-backup' },
    });

    const overlap = await runScheduleTick(deps, nightly);
    expect(overlap).toMatchObject({ started: [], reused: first.started, failed: [] });
  });

  it('fires through the real queue: a tick job starts the run and a worker completes it', async () => {
    for (const active of await t.db
      .selectFrom('operation_runs')
      .select('id')
      .where('status', '!=', 'completed')
      .execute()) {
      await runs.requestCancel(active.id, { userId: null });
    }
    worker = await runTestWorker(t, registry, { schedules: [nightly] });
    // What graphile-worker's cron does at 02:00: queue the schedule task with its payload.
    await sql`select graphile_worker.add_job('runwarden:schedule', json_build_object('scheduleId', 'nightly-backup'))`.execute(
      t.db,
    );
    const done = await until(
      async () => {
        const row = await t.db
          .selectFrom('operation_runs')
          .selectAll()
          .where('type', '=', 'backup_schedule.run')
          .where('status', '=', 'completed')
          .where('outcome', '=', 'succeeded')
          .executeTakeFirst();
        return row;
      },
      { within: 10_000, what: 'the scheduled run to succeed' },
    );
    expect(done.initiator_user_id).toBeNull();
  });

  it('rejects bad schedules before a worker starts', () => {
    expect(() => scheduleCronItems([{ ...nightly, cron: '61 * * * *' }], registry)).toThrow();
    expect(() => scheduleCronItems([{ ...nightly, type: 'nope.nope' }], registry)).toThrow(
      /no operation type/,
    );
    expect(() => scheduleCronItems([{ ...nightly, tenant: undefined }], registry)).toThrow(
      /tenant-scoped/,
    );
    expect(() => scheduleCronItems([nightly, nightly], registry)).toThrow(/defined twice/);
  });
});
