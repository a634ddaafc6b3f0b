import { type Kysely, sql } from 'kysely';
import type { Database, UserRow } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { isUuid } from '../domain/uuid.js';
import type { WorkspaceRef } from './directory-changes.js';

type Db = Kysely<Database>;

/** The workspace with that slug or id; `not_found` otherwise. */
export async function findWorkspace(db: Db, ref: string): Promise<WorkspaceRef> {
  const row = await db
    .selectFrom('workspaces')
    .select(['id', 'slug', 'name'])
    .where((eb) =>
      isUuid(ref) ? eb.or([eb('id', '=', ref), eb('slug', '=', ref)]) : eb('slug', '=', ref),
    )
    .executeTakeFirst();
  if (!row) throw new RunwardenError('not_found', `No workspace ${ref}.`);
  return row;
}

export async function findUser(db: Db, email: string): Promise<UserRow> {
  const user = await db
    .selectFrom('users')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email)
    .executeTakeFirst();
  if (!user) throw new RunwardenError('not_found', `No user ${email}.`);
  return user;
}

/** Resolves tenant slugs of `ws` to ids (sorted); null stays null (every tenant). */
export async function tenantIds(
  db: Db,
  ws: WorkspaceRef,
  slugs: string[] | null,
): Promise<string[] | null> {
  if (slugs === null) return null;
  if (!slugs.length) return [];
  const rows = await db
    .selectFrom('tenants')
    .select(['id', 'slug'])
    .where('workspace_id', '=', ws.id)
    .where('slug', 'in', slugs)
    .execute();
  const missing = slugs.filter((s) => !rows.some((r) => r.slug === s));
  if (missing.length) {
    const problems = missing.map((s) => `tenants: no tenant ${s} in workspace ${ws.slug}`);
    throw new RunwardenError('validation_failed', problems.join('; '), { details: { problems } });
  }
  return rows.map((r) => r.id).sort();
}

/** Checks tenant ids belong to `ws` (sorted); null stays null (every tenant). */
export async function tenantIdsById(
  db: Db,
  ws: WorkspaceRef,
  ids: string[] | null,
): Promise<string[] | null> {
  if (ids === null) return null;
  const unique = [...new Set(ids)];
  if (!unique.length) return [];
  const rows = await db
    .selectFrom('tenants')
    .select('id')
    .where('workspace_id', '=', ws.id)
    .where('id', 'in', unique)
    .execute();
  const missing = unique.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length) {
    const problems = missing.map((id) => `tenantIds: no tenant ${id} in workspace ${ws.slug}`);
    throw new RunwardenError('validation_failed', problems.join('; '), { details: { problems } });
  }
  return unique.sort();
}
