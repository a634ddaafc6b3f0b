import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cancelRun } from '../../src/execution/cancel.js';
import { defineOperation } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { registryOf } from '../support/worker.js';

const sync = defineOperation({
  type: 'inventory.sync',
  label: 'Inventory sync',
  scope: 'tenant',
  input: z.object({ scope: z.enum(['all', 'policies']) }),
  identity: (input) => ({ scope: input.scope }),
  lifecycle: { retries: 2 },
  run: async () => ({ outcome: 'succeeded' }),
});
const report = defineOperation({
  type: 'review_pack.generate',
  label: 'Review pack',
  scope: 'workspace',
  input: z.object({}),
  identity: () => ({}),
  run: async () => ({ outcome: 'succeeded' }),
});
const registry = registryOf(sync, report);

let t: TestDatabase;
let scope: Scope;
let runs: RunService;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});

const deps = () => ({ db: t.db, runs, registry });

async function jobs(runId: string) {
  const result = await sql<{
    id: string;
    task_identifier: string;
    payload: { runId: string };
    max_attempts: number;
  }>`
    select j.id, t.identifier as task_identifier, j.payload, j.max_attempts
    from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
    where j.key = ${runId}`.execute(t.db);
  return result.rows;
}

async function counts() {
  const runsCount = await t.db
    .selectFrom('operation_runs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const jobsCount = await sql<{
    n: string;
  }>`select count(*) as n from graphile_worker.jobs`.execute(t.db);
  return { runs: Number(runsCount.n), jobs: Number(jobsCount.rows[0]?.n) };
}

describe('start path', () => {
  it('creates the run and its job in one go; the job carries only the run id', async () => {
    const { run, reused } = await startRun(deps(), {
      type: 'inventory.sync',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { scope: 'all' },
      initiatorUserId: scope.userId,
    });
    expect(reused).toBe(false);
    expect(run).toMatchObject({
      status: 'queued',
      type: 'inventory.sync',
      input: { scope: 'all' },
    });
    expect(await jobs(run.id)).toEqual([
      expect.objectContaining({
        task_identifier: 'runwarden:inventory.sync',
        payload: { runId: run.id },
        max_attempts: 3,
      }),
    ]);
  });

  it('a reused start enqueues no second job', async () => {
    const request = {
      type: 'inventory.sync',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { scope: 'policies' },
      initiatorUserId: null,
    };
    const first = await startRun(deps(), request);
    const before = await counts();
    const second = await startRun(deps(), { ...request, initiatorUserId: scope.userId });
    expect(second).toMatchObject({ reused: true, run: { id: first.run.id } });
    expect(await counts()).toEqual(before);
  });

  it('rolls back the run when the enqueue fails: no run, no job, a typed error', async () => {
    const before = await counts();
    await expect(
      startRun(
        {
          ...deps(),
          enqueue: async () => {
            throw new Error('queue unavailable');
          },
        },
        {
          type: 'review_pack.generate',
          workspaceId: scope.workspaceId,
          input: {},
          initiatorUserId: null,
        },
      ),
    ).rejects.toMatchObject({ code: 'enqueue_failed' });
    expect(await counts()).toEqual(before);
  });

  it('rolls back when the real queue refuses the job (invalid max_attempts)', async () => {
    const before = await counts();
    const broken = registryOf(
      defineOperation({ ...report, type: 'broken.report', lifecycle: { retries: -1 } }),
    );
    await expect(
      startRun(
        { ...deps(), registry: broken },
        { type: 'broken.report', workspaceId: scope.workspaceId, input: {}, initiatorUserId: null },
      ),
    ).rejects.toMatchObject({ code: 'enqueue_failed' });
    expect(await counts()).toEqual(before);
  });

  it.each<[{ type: string; input: unknown; tenantId?: string | null }, string]>([
    [{ type: 'nope.nope', input: {} }, 'unknown_type'],
    [{ type: 'inventory.sync', input: { scope: 'everything' } }, 'invalid_input'],
    [{ type: 'inventory.sync', input: { scope: 'all' }, tenantId: null }, 'invalid_input'],
    [{ type: 'review_pack.generate', input: {}, tenantId: 'TENANT' }, 'invalid_input'],
    [
      {
        type: 'inventory.sync',
        input: { scope: 'all' },
        tenantId: '0190b6a0-0000-7000-8000-000000000000',
      },
      'not_found',
    ],
    [{ type: 'inventory.sync', input: { scope: 'all' }, tenantId: 'INACTIVE' }, 'tenant_inactive'],
  ])('refuses %j with %s and changes nothing', async (request, code) => {
    const before = await counts();
    const tenantId =
      request.tenantId === 'TENANT'
        ? scope.tenantId
        : request.tenantId === 'INACTIVE'
          ? scope.inactiveTenantId
          : request.tenantId;
    await expect(
      startRun(deps(), {
        workspaceId: scope.workspaceId,
        initiatorUserId: null,
        ...request,
        tenantId: tenantId === undefined ? scope.tenantId : tenantId,
      }),
    ).rejects.toMatchObject({ code });
    expect(await counts()).toEqual(before);
  });

  it('reports the failing field paths for input that does not fit the schema', async () => {
    await expect(
      startRun(deps(), {
        type: 'inventory.sync',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { scope: 3 },
        initiatorUserId: null,
      }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
      details: { issues: [expect.objectContaining({ path: 'scope' })] },
    });
  });
});

describe('cancel', () => {
  it('cancels a queued run and removes its job in the same transaction', async () => {
    const { run } = await startRun(deps(), {
      type: 'review_pack.generate',
      workspaceId: scope.workspaceId,
      input: {},
      initiatorUserId: null,
    });
    expect(await jobs(run.id)).toHaveLength(1);
    const result = await cancelRun({ db: t.db, runs }, run.id, { userId: scope.userId });
    expect(result).toMatchObject({
      moved: true,
      effect: 'cancelled',
      run: { outcome: 'cancelled' },
    });
    expect(await jobs(run.id)).toEqual([]);
  });
});
