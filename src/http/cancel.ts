import { actorOf, type Principal } from '../access/principal.js';
import { RunwardenError } from '../domain/errors.js';
import { cancelAnyRun } from '../fleet/cancel-fleet.js';
import { recordAudit } from '../runs/audit.js';
import type { ApiContext } from './context.js';

/** Cancels a run for an authorized caller and audits it; a run past cancelling is a 409. */
export async function cancelForCaller(
  ctx: ApiContext,
  run: { id: string; workspace_id: string },
  principal: Principal,
  action: 'run.cancel' | 'system.cancel',
): Promise<'cancelled' | 'cancel_requested'> {
  const result = await cancelAnyRun(ctx, run.id, { userId: principal.userId });
  if (!result.moved) {
    throw new RunwardenError(
      'conflict',
      result.reason === 'already_terminal'
        ? 'The run has already finished.'
        : 'Cancel has already been requested.',
    );
  }
  const effect = result.effect ?? 'cancel_requested';
  await recordAudit(ctx.db, {
    actor: actorOf(principal),
    action,
    workspaceId: run.workspace_id,
    target: { type: 'run', id: run.id },
    details: { effect },
  });
  return effect;
}
