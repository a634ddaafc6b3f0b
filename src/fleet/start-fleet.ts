import type { RunRow } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { uuidv7 } from '../domain/uuid.js';
import type { StartDeps } from '../execution/start.js';
import { enterLanes } from '../flow/lanes.js';

export interface FleetRequest {
  type: string;
  workspaceId: string;
  /** Every tenant of the workspace, or these slugs. Inactive ones are skipped and counted. */
  tenants: 'all' | readonly string[];
  input: unknown;
  initiatorUserId: string | null;
  initiatorTokenId?: string | null;
  /** The fleet this one retries (its tenants that did not succeed). */
  retryOf?: string;
}

export interface FleetStarted {
  /** The parent run (workspace-scoped, `fleet`). */
  run: RunRow;
  children: { started: number; reused: number; skipped: number };
}

/** Tenant slugs a parent's context names at most (the count is always whole). */
const NAMED_SKIPPED = 50;

/**
 * Starts a fleet (DESIGN §19): one parent run and one child per active tenant, each child through
 * the normal start path (input check, dedupe, flow control), all in ONE transaction: never a parent
 * without its children, nor children without their parent. A tenant whose identical run is already
 * active joins with that run (reused) instead of starting another.
 */
export async function startFleet(deps: StartDeps, request: FleetRequest): Promise<FleetStarted> {
  const operation = deps.registry.get(request.type);
  if (!operation) {
    throw new RunwardenError('unknown_type', `there is no operation type "${request.type}"`, {
      details: { type: request.type },
    });
  }
  if (operation.scope !== 'tenant' || operation.execution !== 'queue') {
    throw new RunwardenError(
      'invalid_input',
      `${operation.type} cannot run as a fleet: only tenant operations that run on the queue can`,
    );
  }
  const parsed = operation.input.safeParse(request.input ?? {});
  if (!parsed.success) {
    throw new RunwardenError('invalid_input', `the input does not fit ${operation.type}`, {
      details: {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    });
  }
  const tenants = await fleetTenants(deps, request);
  const active = tenants.filter((t) => t.status === 'active');
  const skipped = tenants.filter((t) => t.status !== 'active').map((t) => t.slug);
  if (active.length === 0) {
    throw new RunwardenError('invalid_input', 'none of these tenants is active: nothing to run', {
      details: { skipped: skipped.slice(0, NAMED_SKIPPED) },
    });
  }
  return await deps.db.transaction().execute(async (trx) => {
    const created = await deps.runs.createOrReuse(
      {
        workspaceId: request.workspaceId,
        tenantId: null,
        type: operation.type,
        // Each fleet is its own: never reused, and never the identity of a workspace run.
        identity: { fleet: uuidv7() },
        input: parsed.data as Record<string, unknown>,
        initiatorUserId: request.initiatorUserId,
        initiatorTokenId: request.initiatorTokenId ?? null,
        context: {
          fleet: { tenants: request.tenants === 'all' ? 'all' : [...request.tenants] },
          skipped: { count: skipped.length, tenants: skipped.slice(0, NAMED_SKIPPED) },
        },
        fleetOf: active.length,
        retryOf: request.retryOf ?? null,
      },
      { trx },
    );
    const parent = created.run;
    // Each child through the one start path's rules, as a set: the tenants read once (and kept
    // active until commit), the runs inserted or joined per chunk, their jobs queued in one call.
    const stillActive = await trx
      .selectFrom('tenants')
      .select('id')
      .where(
        'id',
        'in',
        active.map((t) => t.id),
      )
      .where('status', '=', 'active')
      .forShare()
      .execute();
    if (stillActive.length !== active.length) {
      throw new RunwardenError(
        'conflict',
        'a tenant of this fleet was deactivated meanwhile; try again',
      );
    }
    // Always held: the admission pass lets them go as worker slots free up, by fair share across
    // tenants, so a 500-tenant fleet never queues 500 jobs ahead of other workspaces' runs
    // (DESIGN §17, §19); a type's own flow limits apply on top.
    const held = true;
    const started = await deps.runs.createOrReuseMany(
      active.map((tenant) => ({
        workspaceId: request.workspaceId,
        tenantId: tenant.id,
        type: operation.type,
        identity: operation.identity(parsed.data),
        input: parsed.data as Record<string, unknown>,
        initiatorUserId: request.initiatorUserId,
        initiatorTokenId: request.initiatorTokenId ?? null,
        held,
        parentId: parent.id,
      })),
      { trx },
    );
    await enterLanes(
      trx,
      started.filter((s) => !s.reused).map((s) => s.run),
    );
    const children = started.map((s, i) => ({
      runId: s.run.id,
      tenantId: (active[i] as { id: string }).id,
      reused: s.reused,
    }));
    await deps.runs.linkFleet(parent.id, children, { trx });
    const reused = children.filter((c) => c.reused).length;
    return {
      run: (await deps.runs.get(parent.id, { trx })) ?? parent,
      children: { started: children.length - reused, reused, skipped: skipped.length },
    };
  });
}

async function fleetTenants(
  deps: StartDeps,
  request: FleetRequest,
): Promise<Array<{ id: string; slug: string; status: string }>> {
  let query = deps.db
    .selectFrom('tenants')
    .select(['id', 'slug', 'status'])
    .where('workspace_id', '=', request.workspaceId)
    .orderBy('slug');
  if (request.tenants !== 'all') {
    const slugs = [...new Set(request.tenants)];
    if (slugs.length === 0) throw new RunwardenError('invalid_input', 'name at least one tenant');
    query = query.where('slug', 'in', slugs);
    const found = await query.execute();
    const missing = slugs.filter((s) => !found.some((t) => t.slug === s));
    if (missing.length > 0) {
      throw new RunwardenError(
        'invalid_input',
        `no such tenant: ${missing.slice(0, 10).join(', ')}`,
        {
          details: { unknownTenants: missing.slice(0, NAMED_SKIPPED) },
        },
      );
    }
    return found;
  }
  return await query.execute();
}
