import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { cancelRun, cancelRunIn } from '../execution/cancel.js';
import type { RunService, Transition } from '../runs/run-service.js';

type Cancelled = Transition & { effect?: 'cancelled' | 'cancel_requested' };

/** Cancels a run; a fleet's parent through `cancelFleet`. */
export async function cancelAnyRun(
  deps: { db: Kysely<Database>; runs: RunService },
  runId: string,
  by: { userId: string | null },
): Promise<Cancelled> {
  const run = await deps.runs.get(runId);
  if (run?.fleet) return await cancelFleet(deps, runId, by);
  return await cancelRun(deps, runId, by);
}

/**
 * Cancels a fleet (DESIGN §19) in one transaction: the parent is flagged, the children it started
 * that are queued are cancelled at once and the running ones asked to stop. The parent completes
 * `cancelled` when its last child ends (at once when none was running). Runs that joined the fleet
 * were started by someone else and are left to run; the parent waits for them.
 */
export async function cancelFleet(
  deps: { db: Kysely<Database>; runs: RunService },
  parentId: string,
  by: { userId: string | null },
): Promise<Cancelled> {
  return await deps.db.transaction().execute(async (trx) => {
    const flagged = await deps.runs.requestFleetCancel(parentId, by, { trx });
    if (!flagged.moved) return flagged;
    const children = await trx
      .selectFrom('operation_runs')
      .select('id')
      .where('parent_id', '=', parentId)
      .where('status', 'in', ['queued', 'running'])
      .orderBy('id')
      .execute();
    for (const child of children) await cancelRunIn(trx, deps, child.id, by);
    const parent = (await deps.runs.get(parentId, { trx })) ?? flagged.run;
    return {
      moved: true,
      run: parent,
      effect: parent.status === 'completed' ? 'cancelled' : 'cancel_requested',
    };
  });
}
