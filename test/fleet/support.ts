import { z } from 'zod';
import { createDb, type Db } from '../../src/db/pool.js';
import type { LifecyclePolicy } from '../../src/domain/lifecycle.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { defineOperation } from '../../src/execution/operation.js';
import type { TestDatabase } from '../support/db.js';

/** Per tenant slug: how its child ends (`wait`: until released or cancelled). */
const plan = z.record(
  z.string(),
  z.enum(['succeeded', 'partially_succeeded', 'failed', 'wait', 'throw']),
);

const releases = new Set<() => void>();
/** Lets every waiting child succeed. */
export function releaseWaiting() {
  for (const release of releases) release();
  releases.clear();
}

/** A tenant type whose child's outcome comes from `input.plan[its tenant's slug]` (default success). */
export function fleetOperation(
  t: () => Pick<TestDatabase, 'db'>,
  options: { type?: string; lifecycle?: Partial<LifecyclePolicy> } = {},
) {
  return defineOperation({
    type: options.type ?? 'fleet.sync',
    label: 'Fleet sync',
    scope: 'tenant',
    input: z.object({ key: z.string(), plan: plan.default({}) }),
    identity: (i) => ({ key: i.key }),
    lifecycle: options.lifecycle ?? { retries: 0 },
    async run(ctx, input) {
      const row = await t()
        .db.selectFrom('operation_runs as r')
        .innerJoin('tenants', 'tenants.id', 'r.tenant_id')
        .select('tenants.slug')
        .where('r.id', '=', ctx.runId)
        .executeTakeFirstOrThrow();
      const ending = input.plan[row.slug] ?? 'succeeded';
      if (ending === 'throw') throw new Error('the source system refused');
      if (ending === 'wait') {
        await new Promise<void>((resolve) => {
          releases.add(resolve);
          ctx.signal.addEventListener('abort', () => resolve());
        });
        return { outcome: ctx.signal.aborted ? 'cancelled' : 'succeeded' };
      }
      return {
        outcome: ending,
        ...(ending === 'succeeded' ? {} : { failures: [{ code: 'src.refused', message: 'no' }] }),
      };
    },
  });
}

/** Adds active tenants with these slugs to the workspace. */
export async function addTenants(db: Db, workspaceId: string, slugs: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const slug of slugs) {
    const id = uuidv7();
    await db
      .insertInto('tenants')
      .values({ id, workspace_id: workspaceId, slug, name: slug.toUpperCase() })
      .execute();
    ids.push(id);
  }
  return ids;
}

let own: Db | undefined;
function processDatabase(): { db: Db } {
  own ??= createDb(process.env.DATABASE_URL ?? '', { max: 2 });
  return { db: own };
}
/**
 * The catalog of a worker process (RUNWARDEN_CONFIG=test/fleet/support.ts): the same handler, read
 * through the process's own connection, beating every second so a killed worker's children are
 * lost after 3 s.
 */
export const catalog = [
  fleetOperation(processDatabase, {
    type: 'fleet.crash',
    lifecycle: { retries: 0, heartbeatSeconds: 1 },
  }),
];
