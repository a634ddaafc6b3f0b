import { sql } from 'kysely';
import type { DirectoryFileData } from './directory-input.js';
import { upsertMemberWith } from './directory-members.js';
import type { DirectoryWriter } from './directory-writer.js';

/** The work of `sync` (DESIGN §13) inside its transaction; see Directory.sync. */
export async function applyDirectoryFile(
  w: DirectoryWriter,
  data: DirectoryFileData,
  prune: boolean | undefined,
): Promise<void> {
  for (const spec of data.workspaces) {
    const ws = await w.workspace({ slug: spec.slug, name: spec.name });
    for (const tenant of spec.tenants) await w.tenant(ws, tenant);
    for (const member of spec.members)
      await upsertMemberWith(w, {
        ...member,
        workspace: ws.slug,
        tenants: member.tenants ?? null,
      });
    if (!prune) continue;
    const tenants = new Set(spec.tenants.map((t) => t.slug));
    const stale = await w.db
      .selectFrom('tenants')
      .select(['slug', 'name'])
      .where('workspace_id', '=', ws.id)
      .where('status', '=', 'active')
      .execute();
    for (const t of stale.filter((t) => !tenants.has(t.slug)))
      await w.tenant(ws, { ...t, status: 'inactive' }, { pruned: true });
    const members = new Set(spec.members.map((m) => m.email));
    const current = await w.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.id', 'users.email'])
      .where('memberships.workspace_id', '=', ws.id)
      .execute();
    for (const m of current.filter((m) => !members.has(m.email.toLowerCase())))
      await w.removeMember(ws, m, { pruned: true });
  }
  if (data.platformStaff) {
    for (const staff of data.platformStaff) {
      const { user } = await w.user(staff);
      await w.platformStaff(user, staff.capabilities);
    }
    if (prune) {
      const listed = new Set(data.platformStaff.map((s) => s.email));
      const staff = await w.db
        .selectFrom('users')
        .selectAll()
        .where(sql<boolean>`cardinality(platform_capabilities) > 0`)
        .execute();
      // A platform admin (platform.directory) is never pruned: change one by listing them.
      const prunable = staff.filter(
        (u) =>
          !listed.has(u.email.toLowerCase()) &&
          !u.platform_capabilities.includes('platform.directory'),
      );
      for (const user of prunable) await w.platformStaff(user, [], { pruned: true });
    }
  }
}
