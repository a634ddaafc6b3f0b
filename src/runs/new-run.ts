import type { NewRunRow } from '../db/schema.js';
import { identityHash } from '../domain/identity.js';
import { uuidv7 } from '../domain/uuid.js';
import type { StartRun } from './call-options.js';
import { FLEET_OUTCOMES } from './fleet-writes.js';

/** The identity a start is deduplicated by (an active run with the same one is reused). */
export function identityKey(start: StartRun) {
  return {
    workspaceId: start.workspaceId,
    tenantId: start.tenantId,
    type: start.type,
    identityHash: identityHash(start),
  };
}

/** The `created` / `start_reused` events' payload: who started it. */
export function startPayload(start: StartRun) {
  return start.initiatorTokenId
    ? { initiatorUserId: start.initiatorUserId, initiatorTokenId: start.initiatorTokenId }
    : { initiatorUserId: start.initiatorUserId };
}

/** A new queued run's row as a start describes it. */
export function newRunRow(start: StartRun, now: Date): NewRunRow {
  return {
    id: uuidv7(now.getTime()),
    workspace_id: start.workspaceId,
    tenant_id: start.tenantId,
    type: start.type,
    identity_hash: identityHash(start),
    input: JSON.stringify(start.input),
    initiator_user_id: start.initiatorUserId,
    initiator_token_id: start.initiatorTokenId ?? null,
    context: JSON.stringify(start.context ?? {}),
    retry_of: start.retryOf ?? null,
    rerun_of: start.rerunOf ?? null,
    tags: [...(start.tags ?? [])],
    held: start.held ?? false,
    priority: start.priority ?? 0,
    run_at: start.runAt ?? null,
    expires_at: start.expiresAt ?? null,
    parent_id: start.parentId ?? null,
    in_fleet: (start.parentId ?? null) !== null,
    ...(start.fleetOf === undefined
      ? {}
      : {
          fleet: true,
          progress_processed: 0,
          progress_total: start.fleetOf,
          summary_counts: JSON.stringify(
            Object.fromEntries(FLEET_OUTCOMES.map((outcome) => [outcome, 0])),
          ),
        }),
    created_at: now,
    updated_at: now,
  };
}
