import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** What a run's page shows around the run itself: its timeline and where it lives. */
export async function loadRunSurroundings(
  db: Kysely<Database>,
  run: { id: string; workspace_id: string; tenant_id: string | null },
) {
  const [timeline, workspace, tenant] = await Promise.all([
    db
      .selectFrom('run_events')
      .select(['id', 'kind', 'at', 'payload'])
      .where('run_id', '=', run.id)
      .orderBy('id')
      .limit(500)
      .execute(),
    db
      .selectFrom('workspaces')
      .select(['id', 'slug', 'name'])
      .where('id', '=', run.workspace_id)
      .executeTakeFirstOrThrow(),
    run.tenant_id
      ? db
          .selectFrom('tenants')
          .select(['id', 'slug', 'name', 'status'])
          .where('id', '=', run.tenant_id)
          .executeTakeFirst()
      : Promise.resolve(undefined),
  ]);
  return { timeline, workspace, tenant: tenant ?? null };
}
