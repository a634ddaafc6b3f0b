import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { wakeAdmitters } from '../flow/lanes.js';
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
  return await deps.db.transaction().execute((trx) => cancelRunIn(trx, deps, runId, by));
}

/** `cancelRun` inside the caller's transaction (a fleet's cancel cancels its children in one). */
export async function cancelRunIn(
  trx: Transaction<Database>,
  deps: { runs: RunService },
  runId: string,
  by: { userId: string | null },
): Promise<Transition & { effect?: 'cancelled' | 'cancel_requested' }> {
  const result = await deps.runs.requestCancel(runId, by, { trx });
  if (result.moved && result.effect === 'cancelled') {
    await removeQueuedJob(trx, runId);
    // An admitted run that had not started frees its flow limits' slot: admit the next.
    if (result.run.eligible_at !== null) await wakeAdmitters(trx);
  }
  return result;
}
