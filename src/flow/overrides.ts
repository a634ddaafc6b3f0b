import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { type FlowLimits, type FlowPool, overrideProblems } from '../domain/flow.js';
import { type FlowLimit, type FlowType, flowLimits } from '../domain/flow-limits.js';
import { type AuditEntry, recordAudit } from '../runs/audit.js';
import { wakeAdmitters } from './lanes.js';

// Runtime limit overrides (DESIGN §17): the one writer of `flow_limit_overrides`. Platform staff
// replace a type's or a pool's limits as a whole, or put the catalog's back; each change is
// audited and wakes the admitters in its own transaction, so it holds within a second.

/** What the overrides need of the catalog: its limits, and each type's queued-stale window. */
export interface FlowCatalog {
  types: readonly FlowType[];
  pools: readonly FlowPool[];
  queuedStaleSeconds(type: string): number;
}

export interface StoredOverride {
  limits: FlowLimits;
  updatedBy: string | null;
  updatedAt: Date;
}

export interface OverrideCall {
  actor: AuditEntry['actor'];
}

export async function readOverrides(db: Kysely<Database>): Promise<Map<string, StoredOverride>> {
  const rows = await db.selectFrom('flow_limit_overrides').selectAll().execute();
  return new Map(
    rows.map((r) => [
      r.name,
      { limits: r.limits as FlowLimits, updatedBy: r.updated_by, updatedAt: r.updated_at },
    ]),
  );
}

/** The catalog's limit `name` (before any override); `not_found` when it has none by that name. */
export function catalogLimit(catalog: FlowCatalog, name: string): FlowLimit {
  const limit = flowLimits(catalog.types, catalog.pools).get(name);
  if (!limit) throw new RunwardenError('not_found', `No flow limit is named "${name}".`);
  return limit;
}

/**
 * Replaces the limits of `name` (a type with `flow`, or a pool) with `limits`, checked by the
 * catalog's rules (`validation_failed` listing each problem).
 */
export async function setOverride(
  db: Kysely<Database>,
  catalog: FlowCatalog,
  name: string,
  limits: FlowLimits,
  call: OverrideCall,
): Promise<void> {
  const limit = catalogLimit(catalog, name);
  const stale = Math.min(...limit.types.map((t) => catalog.queuedStaleSeconds(t)));
  const problems = overrideProblems(limit, limits, stale);
  if (problems.length)
    throw new RunwardenError(
      'validation_failed',
      `The limits are not valid: ${problems.join('; ')}`,
      {
        details: { problems },
      },
    );
  const stored: FlowLimits = {
    ...(limits.concurrency ? { concurrency: limits.concurrency } : {}),
    ...(limits.rate ? { rate: limits.rate } : {}),
  };
  await db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('flow_limit_overrides')
      .select('limits')
      .where('name', '=', name)
      .forUpdate()
      .executeTakeFirst();
    await trx
      .insertInto('flow_limit_overrides')
      .values({ name, limits: JSON.stringify(stored), updated_by: call.actor.userId })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          limits: JSON.stringify(stored),
          updated_by: call.actor.userId,
          updated_at: new Date(),
        }),
      )
      .execute();
    await recordAudit(trx, {
      actor: call.actor,
      action: 'flow.limits_overridden',
      target: { type: 'flow_limit', id: name },
      details: {
        kind: limit.kind,
        limits: stored,
        before: before ? before.limits : null,
        declared: limit.declared,
      },
    });
    await wakeAdmitters(trx);
  });
}

/** Puts the catalog's limits of `name` back (`not_found`: it has none by that name). Whether there was an override. */
export async function clearOverride(
  db: Kysely<Database>,
  catalog: FlowCatalog,
  name: string,
  call: OverrideCall,
): Promise<boolean> {
  catalogLimit(catalog, name);
  return await db.transaction().execute(async (trx) => {
    const removed = await trx
      .deleteFrom('flow_limit_overrides')
      .where('name', '=', name)
      .returning('limits')
      .executeTakeFirst();
    if (!removed) return false;
    await recordAudit(trx, {
      actor: call.actor,
      action: 'flow.limits_restored',
      target: { type: 'flow_limit', id: name },
      details: { before: removed.limits },
    });
    await wakeAdmitters(trx);
    return true;
  });
}
