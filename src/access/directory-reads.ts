import type { Kysely } from 'kysely';
import type { Database, TenantStatus } from '../db/schema.js';
import { isUuid } from '../domain/uuid.js';
import type { MemberView } from './directory-changes.js';
import { pendingView } from './pending-memberships.js';

/** The directory as the settings pages and `GET /api/workspaces/:ws/…` show it (never a secret). */
export function directoryReads(db: Kysely<Database>) {
  return {
    /** A workspace by slug or id, whoever asks (authorization is the caller's job). */
    async workspace(ref: string) {
      return await db
        .selectFrom('workspaces')
        .select(['id', 'slug', 'name'])
        .where(isUuid(ref) ? 'id' : 'slug', '=', ref)
        .executeTakeFirst();
    },

    async tenants(
      workspaceId: string,
    ): Promise<
      Array<{ id: string; slug: string; name: string; status: TenantStatus; weight: number }>
    > {
      return await db
        .selectFrom('tenants')
        .select(['id', 'slug', 'name', 'status', 'weight'])
        .where('workspace_id', '=', workspaceId)
        .orderBy('slug')
        .execute();
    },

    /** Members, and the memberships owners offered (as typed: nothing of anyone's account). */
    async members(workspaceId: string): Promise<MemberView[]> {
      const [rows, offers] = await Promise.all([
        db
          .selectFrom('memberships')
          .innerJoin('users', 'users.id', 'memberships.user_id')
          .select([
            'users.id',
            'users.email',
            'users.name',
            'users.disabled_at',
            'memberships.role',
            'memberships.tenant_ids',
          ])
          .where('memberships.workspace_id', '=', workspaceId)
          .execute(),
        db
          .selectFrom('pending_memberships')
          .select(['id', 'workspace_id', 'email', 'name', 'role', 'tenant_ids'])
          .where('workspace_id', '=', workspaceId)
          .execute(),
      ]);
      return [
        ...rows.map((r) => ({
          userId: r.id,
          email: r.email,
          name: r.name,
          role: r.role,
          tenantIds: r.tenant_ids,
          disabled: r.disabled_at !== null,
          pending: false,
        })),
        ...offers.map(pendingView),
      ].sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
    },

    async tokens(workspaceId: string) {
      const rows = await db
        .selectFrom('api_tokens')
        .select([
          'id',
          'name',
          'role',
          'kind',
          'created_by',
          'created_at',
          'last_used_at',
          'revoked_at',
        ])
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        role: r.role,
        createdBy: r.created_by,
        kind: r.kind,
        createdAt: r.created_at.toISOString(),
        lastUsedAt: r.last_used_at?.toISOString() ?? null,
        revokedAt: r.revoked_at?.toISOString() ?? null,
      }));
    },
  };
}
