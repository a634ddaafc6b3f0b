import pino from 'pino';
import type { z } from 'zod';
import { createPool } from '../../src/db/pool.js';
import type { OperationDefinition } from '../../src/execution/operation.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../../src/execution/worker.js';
import { RunService } from '../../src/runs/run-service.js';
import type { TestDatabase } from './db.js';

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function registryOf(...operations: OperationDefinition<z.ZodType>[]): OperationRegistry {
  return new OperationRegistry(operations);
}

/** A real graphile-worker runner in this process, on the test file's database. */
export async function runTestWorker(
  t: TestDatabase,
  registry: OperationRegistry,
  options: Partial<WorkerOptions> = {},
): Promise<WorkerHandle & { close(): Promise<void> }> {
  const pgPool = createPool(t.url, { max: 8 });
  const handle = await startWorker({
    db: t.db,
    pgPool,
    databaseUrl: t.url,
    runs: new RunService({ db: t.db }),
    registry,
    logger: quietLogger,
    concurrency: 4,
    pollIntervalMs: 200,
    ...options,
  });
  return {
    ...handle,
    async close() {
      await handle.stop();
      await pgPool.end();
    },
  };
}
