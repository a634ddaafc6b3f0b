import pino from 'pino';
import { demoCatalog } from '../src/catalog/index.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createDb, createPool, type Db } from '../src/db/pool.js';
import { uuidv7 } from '../src/domain/uuid.js';
import type { OperationDefinition } from '../src/execution/operation.js';
import { migrateQueue } from '../src/execution/queue.js';
import { OperationRegistry } from '../src/execution/registry.js';
import { startRun } from '../src/execution/start.js';
import { startWorker, type WorkerOptions } from '../src/execution/worker.js';
import { RunService } from '../src/runs/run-service.js';
import { benchDatabase } from './support.js';

/**
 * A migrated database with one workspace and tenant, the demo catalog (plus `operations`), and a
 * quiet logger. `statements`: an embedded cluster with pg_stat_statements loaded.
 */
export async function queueFixture(
  label: string,
  options: { statements?: boolean; operations?: OperationDefinition[] } = {},
) {
  const target = await benchDatabase(label, { statements: options.statements });
  let pool = createPool(target.url, { max: 20 });
  let db: Db = createDb(pool);
  await migrateToLatest(db);
  await migrateQueue(pool);
  const workspaceId = uuidv7();
  const tenantId = uuidv7();
  await db
    .insertInto('workspaces')
    .values({ id: workspaceId, slug: 'bench', name: 'Bench' })
    .execute();
  await db
    .insertInto('tenants')
    .values({ id: tenantId, workspace_id: workspaceId, slug: 't', name: 'T' })
    .execute();
  let runs = new RunService({ db });
  const registry = new OperationRegistry([...demoCatalog(), ...(options.operations ?? [])]);
  // BENCH_LOG=info: the worker logs as a deployed one does (JSON lines, here to /dev/null).
  const logger = process.env.BENCH_LOG
    ? pino({ level: process.env.BENCH_LOG }, pino.destination('/dev/null'))
    : pino({ level: 'silent' });
  return {
    url: target.url,
    postmasterPid: target.postmasterPid,
    get pool() {
      return pool;
    },
    get db() {
      return db;
    },
    get runs() {
      return runs;
    },
    /** Closes this fixture's connections (their backends report their statistics) and opens new ones. */
    async reopen() {
      await db.destroy();
      pool = createPool(target.url, { max: 20 });
      db = createDb(pool);
      runs = new RunService({ db });
    },
    registry,
    workspaceId,
    tenantId,
    logger,
    /** Starts a system `demo.sleep` run through the real start path (`tag` keeps starts distinct). */
    async startSleep(seconds: number, tag: string) {
      return await this.start('demo.sleep', { seconds, tag });
    },
    /** Starts a system run of `type` through the real start path. */
    async start(type: string, input: Record<string, unknown>) {
      const { run } = await startRun(
        { db, runs, registry },
        { type, workspaceId, tenantId, input, initiatorUserId: null },
      );
      return run;
    },
    /**
     * A Runwarden worker with pools of its own (the queue's and the run writes'), as a worker
     * process runs it; `stop()` closes them.
     */
    async startWorker(options: Partial<WorkerOptions> & { concurrency: number }) {
      const workerPool = createPool(target.url, { max: options.concurrency + 2 });
      const workerDb = createDb(target.url, { max: options.concurrency + 3 });
      const handle = await startWorker({
        db: workerDb,
        pgPool: workerPool,
        databaseUrl: target.url,
        runs: new RunService({ db: workerDb }),
        registry,
        logger,
        ...options,
      });
      return {
        ...handle,
        async stop() {
          await handle.stop();
          await workerPool.end();
          await workerDb.destroy();
        },
      };
    },
    async close() {
      await db.destroy();
      await target.close();
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
