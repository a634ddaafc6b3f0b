import { alertWork } from '../alerts/tasks.js';
import type { Config } from '../config.js';
import { startWorker } from '../execution/worker.js';
import { rollupFold } from '../insights/rollups.js';
import { startReconcilerLoop } from '../lifecycle/reconciler.js';
import { dailyPrune } from '../lifecycle/retention.js';
import { startUpkeepLoop } from '../lifecycle/upkeep.js';
import type { Logger } from '../logger.js';
import type { Lifecycle } from './lifecycle.js';
import type { Runtime } from './runtime.js';

/** How long past the worker's shutdown grace a signal may take to end the process. */
const SHUTDOWN_MARGIN_SECONDS = 10;

/**
 * The work a long-running process does in the background: a queue worker (with the daily
 * retention prune as its maintenance, and the alerts' jobs), the reconciler loop and the minute's
 * upkeep (rollups, alert clock rules). Every such process sweeps, so truth
 * converges while any of them is alive. Each part's stop is registered with `lifecycle` as soon as
 * it runs.
 */
export async function startBackground(
  runtime: Runtime,
  config: Config,
  logger: Logger,
  lifecycle: Lifecycle,
  worker: { concurrency: number; shutdownGraceSeconds: number },
): Promise<void> {
  lifecycle.phase('starting the worker');
  const alerts = alertWork({
    db: runtime.db,
    publicUrl: config.publicUrl,
    policyOf: runtime.registry.policyOf,
    smtpUrl: config.alerts.smtpUrl,
    smtpFrom: config.alerts.smtpFrom,
    allowPrivateAddresses: config.alerts.privateUrls,
  });
  const handle = await startWorker({
    db: runtime.db,
    pgPool: runtime.pool,
    databaseUrl: runtime.handle.url,
    dbTimeouts: config.dbTimeouts,
    runs: runtime.runs,
    registry: runtime.registry,
    schedules: runtime.schedules,
    maintenance: config.retentionDays ? [dailyPrune(runtime.db, config.retentionDays)] : [],
    jobs: alerts.jobs,
    runLogCaps: config.runLogCaps,
    logger,
    ...worker,
  });
  lifecycle.add(() => handle.stop());
  // Whatever the database does, a signal ends this process within the grace + 10 s (DESIGN §16).
  lifecycle.limitShutdown((worker.shutdownGraceSeconds + SHUTDOWN_MARGIN_SECONDS) * 1000);
  startReconciler(runtime, config, logger, lifecycle);
  // Each minute: rollups folded for the charts, and the alerts' clock rules.
  const upkeep = startUpkeepLoop(
    [rollupFold(runtime.db, config.retentionDays), ...alerts.upkeep],
    logger,
  );
  lifecycle.add(() => upkeep.stop());
}

/** The reconciler loop alone (what `serve` runs in the background). */
export function startReconciler(
  runtime: Runtime,
  config: Config,
  logger: Logger,
  lifecycle: Lifecycle,
): void {
  const reconciler = startReconcilerLoop({ ...runtime, logger }, config.reconcileIntervalSeconds);
  lifecycle.add(() => reconciler.stop());
}
