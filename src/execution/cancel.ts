import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { RunService, Transition } from '../runs/run-service.js';
import { removeQueuedJob } from './queue.js';

/**
 * Cancel (DESIGN §7.7): a queued run is cancelled at once and its job removed in the same
 * transaction; a running run is flagged and its worker aborts the handler on its next heartbeat.
 */
export async function cancelRun(
  deps: { db: Kysely<Database>; runs: RunService },
  runId: string,
  by: { userId: string | null },
): Promise<Transition & { effect?: 'cancelled' | 'cancel_requested' }> {
  return await deps.db.transaction().execute(async (trx) => {
    const result = await deps.runs.requestCancel(runId, by, { trx });
    if (result.moved && result.effect === 'cancelled') await removeQueuedJob(trx, runId);
    return result;
  });
}
