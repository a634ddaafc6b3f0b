import type { Config } from '../config.js';
import { startWorker } from '../execution/worker.js';
import { startReconcilerLoop } from '../lifecycle/reconciler.js';
import type { Logger } from '../logger.js';
import type { Runtime } from './runtime.js';

/**
 * The work a long-running process does in the background: a queue worker and the reconciler
 * loop. Every such process sweeps, so truth converges while any of them is alive.
 * Returns the cleanups in start order (run them last-first).
 */
export async function startBackground(
  runtime: Runtime,
  config: Config,
  logger: Logger,
  worker: { concurrency?: number; shutdownGraceSeconds: number },
): Promise<Array<() => Promise<void>>> {
  const handle = await startWorker({
    db: runtime.db,
    pgPool: runtime.pool,
    databaseUrl: runtime.handle.url,
    runs: runtime.runs,
    registry: runtime.registry,
    schedules: runtime.schedules,
    retentionDays: config.retentionDays,
    logger,
    ...worker,
  });
  const reconciler = startReconcilerLoop({ ...runtime, logger }, config.reconcileIntervalSeconds);
  return [() => handle.stop(), () => reconciler.stop()];
}
