import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { Database, Role } from '../db/schema.js';
import { Email, PlatformCapabilityInput, RoleInput, Slug } from './directory-input.js';
import type { DirectoryActor } from './directory-writer.js';
import { DirectoryWriter } from './directory-writer.js';

/** Who the host platform says is calling (DESIGN §15, `resolvePrincipal`): authoritative. */
export const HostPrincipalInput = z.object({
  email: Email,
  name: z.string().trim().min(1).max(200),
  workspaces: z
    .array(
      z.object({
        slug: Slug,
        role: RoleInput,
        tenants: z.array(Slug).nullable().default(null),
      }),
    )
    .default([]),
  platform: z.array(PlatformCapabilityInput).default([]),
});

export type HostPrincipal = z.input<typeof HostPrincipalInput>;

const HOST_ACTOR: DirectoryActor = { userId: null, kind: 'system', source: 'library' };

interface Grant {
  workspaceId: string;
  slug: string;
  role: Role;
  tenantIds: string[] | null;
}

/**
 * Makes the directory hold exactly what the host said about this person: the user (by lower-cased
 * email) with that name, a membership with that role and tenant restriction in each named
 * workspace that exists here, no membership elsewhere, and exactly these platform capabilities.
 * Workspaces and tenants the directory does not know are left out (the host syncs them through
 * `rw.directory` first): a grant never reaches further than the directory. One read when nothing
 * changed; otherwise one audited directory transaction. Returns the user's id.
 */
export async function grantExactly(
  db: Kysely<Database>,
  input: HostPrincipal,
  options: { actor?: DirectoryActor } = {},
): Promise<string> {
  const host = HostPrincipalInput.parse(input);
  const slugs = host.workspaces.map((w) => w.slug);
  const [user, workspaces] = await Promise.all([
    db
      .selectFrom('users')
      .select(['id', 'name', 'platform_capabilities', 'password_origin'])
      .where(sql<string>`lower(email)`, '=', host.email)
      .executeTakeFirst(),
    slugs.length
      ? db
          .selectFrom('workspaces')
          .leftJoin('tenants', 'tenants.workspace_id', 'workspaces.id')
          .select([
            'workspaces.id',
            'workspaces.slug',
            'tenants.id as tenantId',
            'tenants.slug as tenantSlug',
          ])
          .where('workspaces.slug', 'in', slugs)
          .execute()
      : Promise.resolve([]),
  ]);
  const wanted: Grant[] = [];
  for (const grant of host.workspaces) {
    const rows = workspaces.filter((r) => r.slug === grant.slug);
    const first = rows[0];
    if (!first) continue;
    const tenantIds =
      grant.tenants === null
        ? null
        : rows
            .filter((r) => r.tenantId && r.tenantSlug && grant.tenants?.includes(r.tenantSlug))
            .map((r) => r.tenantId as string)
            .sort();
    wanted.push({ workspaceId: first.id, slug: grant.slug, role: grant.role, tenantIds });
  }
  const platform = [...new Set(host.platform)].sort();
  const current = user
    ? await db
        .selectFrom('memberships')
        .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
        .select([
          'workspaces.id as workspaceId',
          'workspaces.slug',
          'memberships.role',
          'memberships.tenant_ids as tenantIds',
        ])
        .where('memberships.user_id', '=', user.id)
        .execute()
    : [];
  // The host vouches for whoever it resolves: a password an owner's offer link set goes (below).
  if (user && user.password_origin !== 'offer' && same(user, host.name, platform, current, wanted))
    return user.id;

  return await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('runwarden.directory'))`.execute(trx);
    // The host signs its people in: no set-password links (a new person gets none, nor does an
    // account the host vouches for whose offer-link password is revoked).
    const w = new DirectoryWriter(trx, options.actor ?? HOST_ACTOR, null);
    const { user: row } = await w.user({ email: host.email, name: host.name, invite: false });
    await w.vouch(row);
    for (const grant of wanted) {
      const ws = { id: grant.workspaceId, slug: grant.slug, name: grant.slug };
      await w.member(ws, row, { role: grant.role, tenantIds: grant.tenantIds });
    }
    const held = await trx
      .selectFrom('memberships')
      .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
      .select(['workspaces.id', 'workspaces.slug', 'workspaces.name'])
      .where('memberships.user_id', '=', row.id)
      .execute();
    for (const ws of held.filter((h) => !wanted.some((g) => g.workspaceId === h.id)))
      await w.removeMember(ws, row);
    await w.platformStaff(row, platform);
    await w.finish();
    return row.id;
  });
}

function same(
  user: { name: string; platform_capabilities: string[] },
  name: string,
  platform: string[],
  current: Grant[],
  wanted: Grant[],
): boolean {
  const key = (grants: Grant[]) =>
    JSON.stringify(
      grants
        .map((g) => [g.workspaceId, g.role, g.tenantIds ? [...g.tenantIds].sort() : null])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  return (
    user.name === name &&
    JSON.stringify([...user.platform_capabilities].sort()) === JSON.stringify(platform) &&
    key(current) === key(wanted)
  );
}
