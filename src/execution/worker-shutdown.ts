import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { Heartbeat } from './heartbeat.js';
import type { InflightRuns } from './inflight-runs.js';
import type { SlotKeeper } from './queue-slots.js';
import { markWorkerStopped } from './worker-registration.js';

/**
 * A worker's stop, run once however often it is called: no new jobs; in-flight handlers get the
 * grace period, then are aborted (their runs handed back by the wrapper); then the heartbeat
 * stops and the `workers` row is marked stopped.
 */
export function workerShutdown(parts: {
  db: Kysely<Database>;
  id: string;
  logger: Logger;
  inflight: InflightRuns;
  graceSeconds: number;
  slots: SlotKeeper;
  heartbeat: Heartbeat;
}): () => Promise<void> {
  const { db, id, logger, inflight, graceSeconds, slots, heartbeat } = parts;
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      logger.info({ inflight: inflight.size, graceSeconds }, 'worker stopping: no new jobs');
      const graceTimer = setTimeout(() => inflight.abortAll('shutdown'), graceSeconds * 1000);
      try {
        await slots.stop();
      } finally {
        clearTimeout(graceTimer);
        await heartbeat.stop();
        await markWorkerStopped(db, id);
        logger.info('worker stopped');
      }
    })();
    return stopping;
  };
}
