import type { Kysely } from 'kysely';
import { authenticated, authorize, notFound } from '../access/authorize.js';
import type { Principal } from '../access/principal.js';
import type { Database, RunRow } from '../db/schema.js';
import type { Capability } from '../domain/capabilities.js';
import type { RunReadModel } from '../runs/read-model.js';

/**
 * The one check of a caller's right to a run by its id (detail, cancel, children): the run's own
 * scope, and for a fleet's parent the tenants of its children (DESIGN §19), read only when the
 * caller's tenant restriction makes them matter.
 */
export async function authorizeRun(
  db: Kysely<Database>,
  principal: Principal | undefined,
  run: Pick<RunRow, 'id' | 'workspace_id' | 'tenant_id' | 'fleet'>,
  capability: Capability,
) {
  const restricted = principal?.workspaces.find((w) => w.id === run.workspace_id)?.restrictedTo;
  const fleetTenants =
    run.fleet && restricted
      ? (
          await db
            .selectFrom('fleet_children')
            .select('tenant_id')
            .distinct()
            .where('parent_id', '=', run.id)
            .execute()
        ).map((c) => c.tenant_id)
      : undefined;
  return authorize(
    principal,
    {
      kind: 'scoped',
      what: 'run',
      workspaceId: run.workspace_id,
      tenantId: run.tenant_id,
      ...(fleetTenants ? { fleetTenants } : {}),
    },
    capability,
  );
}

/**
 * The run by id, if the caller may see it with `capability`; otherwise the same 404 as no run
 * (anonymous: 401, as for a run that exists).
 */
export async function visibleRun(
  deps: { db: Kysely<Database>; reads: RunReadModel; now: () => Date },
  principal: Principal | undefined,
  id: string,
  capability: Capability,
) {
  const run = await deps.reads.find(id, deps.now());
  if (!run) {
    authenticated(principal);
    throw notFound('run');
  }
  return { run, ...(await authorizeRun(deps.db, principal, run, capability)) };
}
