import pino from 'pino';
import { demoCatalog } from '../src/catalog/index.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createDb, createPool, type Db } from '../src/db/pool.js';
import { uuidv7 } from '../src/domain/uuid.js';
import { migrateQueue } from '../src/execution/queue.js';
import { OperationRegistry } from '../src/execution/registry.js';
import { startRun } from '../src/execution/start.js';
import { startWorker, type WorkerOptions } from '../src/execution/worker.js';
import { RunService } from '../src/runs/run-service.js';
import { benchDatabase } from './support.js';

/** A migrated database with one workspace and tenant, the demo catalog, and a quiet logger. */
export async function queueFixture(label: string) {
  const target = await benchDatabase(label);
  const pool = createPool(target.url, { max: 20 });
  const db: Db = createDb(pool);
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
  const runs = new RunService({ db });
  const registry = new OperationRegistry(demoCatalog());
  const logger = pino({ level: 'silent' });
  return {
    url: target.url,
    pool,
    db,
    runs,
    registry,
    workspaceId,
    tenantId,
    logger,
    /** Starts a system `demo.sleep` run through the real start path (`tag` keeps starts distinct). */
    async startSleep(seconds: number, tag: string) {
      const { run } = await startRun(
        { db, runs, registry },
        {
          type: 'demo.sleep',
          workspaceId,
          tenantId,
          input: { seconds, tag },
          initiatorUserId: null,
        },
      );
      return run;
    },
    /** A Runwarden worker on its own pool, as a worker process would run it. */
    async startWorker(options: Partial<WorkerOptions> & { concurrency: number }) {
      const workerPool = createPool(target.url, { max: options.concurrency + 2 });
      const handle = await startWorker({
        db,
        pgPool: workerPool,
        databaseUrl: target.url,
        runs,
        registry,
        logger,
        ...options,
      });
      return {
        ...handle,
        async stop() {
          await handle.stop();
          await workerPool.end();
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
