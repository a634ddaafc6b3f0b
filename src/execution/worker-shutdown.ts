import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { Heartbeat } from './heartbeat.js';
import type { InflightRuns } from './inflight-runs.js';
import type { SlotKeeper } from './queue-slots.js';
import { STOP_GRACE_MS } from './stop-grace.js';
import { markWorkerStopped } from './worker-registration.js';

/**
 * How long, after the grace period and the handlers' stop grace, the stop waits for the hand-back
 * writes: when the database does not answer (a blackholed network) they would retry for the
 * run's whole lifecycle window, and a SIGTERM must end the process within its grace + 10 s
 * (DESIGN §16). Runs not handed back by then are left `running`: the reconciler ends them once
 * their heartbeat is lost, as after a crash.
 */
export const HAND_BACK_LIMIT_MS = 3_000;
/** How long the stop waits to mark the `workers` row stopped (the reconciler does it otherwise). */
const MARK_STOPPED_LIMIT_MS = 2_000;

/**
 * A worker's stop, run once however often it is called: no new jobs; in-flight handlers get the
 * grace period, then are aborted (their runs handed back by the wrapper); then the heartbeat
 * stops and the `workers` row is marked stopped. Each wait is bounded, so a database that does not
 * answer never holds the stop past grace + STOP_GRACE_MS + HAND_BACK_LIMIT_MS + 5 s.
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
      const limitMs = graceSeconds * 1000 + STOP_GRACE_MS + HAND_BACK_LIMIT_MS;
      try {
        if ((await within(slots.stop(), limitMs)) === 'late')
          logger.warn(
            { runs: inflight.size, seconds: limitMs / 1000 },
            'worker stop: runs not handed back in time (the database does not answer); ' +
              'the reconciler ends them once their heartbeat is lost',
          );
      } finally {
        clearTimeout(graceTimer);
        const marked = within(markWorkerStopped(db, id), MARK_STOPPED_LIMIT_MS);
        await heartbeat.stop();
        await marked.catch((error: unknown) =>
          logger.warn({ err: error }, 'worker stop: could not mark the worker stopped'),
        );
        logger.info('worker stopped');
      }
    })();
    return stopping;
  };
}

/** `work`'s result, or 'late' once `ms` pass first (`work` goes on; its failure is then ignored). */
async function within<T>(work: Promise<T>, ms: number): Promise<T | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
