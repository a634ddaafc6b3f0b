import { RunwardenError } from '../domain/errors.js';
import type { StartDeps } from '../execution/start.js';
import { type FleetStarted, startFleet } from './start-fleet.js';

export interface FleetRetry {
  parentId: string;
  initiatorUserId: string | null;
  initiatorTokenId?: string | null;
}

/**
 * Retries a finished fleet's tenants that did not succeed (DESIGN §19): a new fleet over them, with
 * the same type and input, linked to the old one (`retryOf`), which stays as it ended. Tenants
 * inactive since are skipped and counted as in any fleet.
 */
export async function retryFleet(deps: StartDeps, retry: FleetRetry): Promise<FleetStarted> {
  const parent = await deps.runs.get(retry.parentId);
  if (!parent?.fleet) throw new RunwardenError('not_found', 'No such fleet run.');
  if (parent.status !== 'completed') {
    throw new RunwardenError('conflict', 'The fleet is still running; retry it once it ends.');
  }
  const slugs = await failedTenantSlugs(deps, parent.id);
  if (slugs.length === 0) {
    throw new RunwardenError('conflict', 'Every tenant of this fleet succeeded: nothing to retry.');
  }
  return await startFleet(deps, {
    type: parent.type,
    workspaceId: parent.workspace_id,
    tenants: slugs,
    input: parent.input,
    initiatorUserId: retry.initiatorUserId,
    initiatorTokenId: retry.initiatorTokenId ?? null,
    retryOf: parent.id,
  });
}

/** The tenants of a fleet whose child ended with any outcome but `succeeded`. */
export async function failedTenantSlugs(deps: StartDeps, parentId: string): Promise<string[]> {
  const rows = await deps.db
    .selectFrom('fleet_children as c')
    .innerJoin('operation_runs as r', 'r.id', 'c.run_id')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .select('t.slug')
    .where('c.parent_id', '=', parentId)
    .where('r.status', '=', 'completed')
    .where('r.outcome', '<>', 'succeeded')
    .orderBy('t.slug')
    .execute();
  return rows.map((r) => r.slug);
}
