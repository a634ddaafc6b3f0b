import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createDb, createPool, type Db } from '../../src/db/pool.js';
import { defineOperation } from '../../src/execution/operation.js';
import { migrateQueue } from '../../src/execution/queue.js';
import { startRun } from '../../src/execution/start.js';
import { startWorker, type WorkerHandle } from '../../src/execution/worker.js';
import { RunService } from '../../src/runs/run-service.js';
import { until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { type OutageCluster, startOutageCluster } from '../support/outage-cluster.js';
import { quietLogger, registryOf } from '../support/worker.js';

/**
 * PostgreSQL crashes (SIGQUIT: no checkpoint, no flush of WAL still in the server's buffers) the
 * moment the handlers report that they started: every run whose handler started must still read
 * `running` (attempt 1, `started_at`, its `running` event) after the restart, and end `succeeded`
 * with that attempt — the start of an attempt is a durable commit like the end.
 */

const RUNS = 16;
const started: string[] = [];
let allStarted: () => void = () => undefined;
let release: () => void = () => undefined;
const released = new Promise<void>((resolve) => {
  release = resolve;
});

const marked = defineOperation({
  type: 'test.marked',
  label: 'Marked',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (i) => i,
  lifecycle: { retries: 0 },
  async run(ctx) {
    started.push(ctx.runId);
    if (started.length === RUNS) allStarted();
    await released;
    return { outcome: 'succeeded' };
  },
});

const registry = registryOf(marked);
let cluster: OutageCluster;
let setup: Db;
let scope: Scope;
let workerDb: Db;
let workerPool: ReturnType<typeof createPool>;
let worker: WorkerHandle | undefined;
const fatal: unknown[] = [];

beforeAll(async () => {
  cluster = await startOutageCluster();
  const pool = createPool(cluster.url, { max: 4 });
  setup = createDb(pool);
  await migrateToLatest(setup);
  await migrateQueue(pool);
  scope = await seedScope(setup);
}, 120_000);

afterAll(async () => {
  release();
  await worker?.stop();
  await workerPool?.end();
  await workerDb?.destroy();
  await setup?.destroy();
  await cluster?.destroy();
}, 60_000);

async function readRuns(db: Db, ids: string[]) {
  return await db
    .selectFrom('operation_runs')
    .select((eb) => [
      'id',
      'status',
      'outcome',
      'attempt',
      'started_at',
      eb
        .selectFrom('run_events')
        .whereRef('run_events.run_id', '=', 'operation_runs.id')
        .where('run_events.kind', '=', 'running')
        .select((e) => e.fn.countAll<string>().as('n'))
        .as('running_events'),
    ])
    .where('id', 'in', ids)
    .execute();
}

describe('a PostgreSQL crash right after the starts of attempts', () => {
  it('loses no start: every run whose handler started reads running, then ends succeeded', {
    timeout: 120_000,
  }, async () => {
    const runs = new RunService({ db: setup });
    const ids: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { run } = await startRun(
        { db: setup, runs, registry },
        {
          type: marked.type,
          workspaceId: scope.workspaceId,
          tenantId: scope.tenantId,
          input: { tag: `t${i}` },
          initiatorUserId: scope.userId,
        },
      );
      ids.push(run.id);
    }
    await setup.destroy();

    // Every run is queued before the worker starts: it fetches them together and starts them in
    // as few statements as it can, with nothing committed after them until the crash.
    const handlersStarted = new Promise<void>((resolve) => {
      allStarted = resolve;
    });
    workerPool = createPool(cluster.url, { max: RUNS + 4 });
    workerDb = createDb(cluster.url, { max: 8 });
    worker = await startWorker({
      db: workerDb,
      pgPool: workerPool,
      databaseUrl: cluster.url,
      runs: new RunService({ db: workerDb }),
      registry,
      logger: quietLogger,
      concurrency: RUNS,
      pollIntervalMs: 200,
      onFatal: (error) => fatal.push(error),
    });
    await handlersStarted;
    await cluster.stop('immediate');
    await cluster.start();

    setup = createDb(cluster.url, { max: 2 });
    expect([...started].sort()).toEqual([...ids].sort());
    const after = await readRuns(setup, ids);
    const lost = after.filter((r) => r.status === 'queued' || r.started_at === null);
    expect(lost, 'runs whose handler started but that read queued after the crash').toEqual([]);
    for (const run of after) {
      expect(run.status).toBe('running');
      expect(run.attempt).toBe(1);
      expect(Number(run.running_events)).toBe(1);
    }

    release();
    const ended = await until(
      async () => {
        const rows = await readRuns(setup, ids).catch(() => []);
        return rows.length === RUNS && rows.every((r) => r.status === 'completed') && rows;
      },
      { within: 60_000, what: 'every run to end' },
    );
    for (const run of ended) {
      expect(run.outcome).toBe('succeeded');
      expect(run.attempt).toBe(1);
    }
    expect(fatal).toEqual([]);
  });
});
