import type { Kysely } from 'kysely';
import type { Database, Role, TenantStatus } from '../db/schema.js';
import {
  type Capability,
  PLATFORM_CAPABILITIES,
  type PlatformCapability,
  roleCapabilities,
} from '../domain/capabilities.js';

export interface TenantAccess {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
}

/** What a caller may do in one workspace. */
export interface WorkspaceAccess {
  id: string;
  slug: string;
  name: string;
  role: Role;
  capabilities: readonly Capability[];
  /** null: every tenant; otherwise only these (a tenant-restricted member). */
  restrictedTo: string[] | null;
  /** The tenants the caller may see. */
  tenants: TenantAccess[];
}

/** Who is calling, resolved once per request from a session or an API token. */
export interface Principal {
  userId: string;
  email: string;
  name: string;
  via: 'session' | 'token';
  tokenId?: string;
  workspaces: WorkspaceAccess[];
  platform: PlatformCapability[];
}

interface MembershipGrant {
  workspaceId: string;
  role: Role;
  tenantIds: string[] | null;
}

export async function loadUserPrincipal(
  db: Kysely<Database>,
  userId: string,
): Promise<Principal | undefined> {
  const user = await db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'platform_capabilities'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!user) return undefined;
  const memberships = await db
    .selectFrom('memberships')
    .select(['workspace_id as workspaceId', 'role', 'tenant_ids as tenantIds'])
    .where('user_id', '=', userId)
    .execute();
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    via: 'session',
    workspaces: await resolveWorkspaces(db, memberships),
    platform: user.platform_capabilities.filter((c): c is PlatformCapability =>
      (PLATFORM_CAPABILITIES as readonly string[]).includes(c),
    ),
  };
}

/**
 * A token acts in its one workspace with its role, and only while its creator is still a member
 * there (it inherits the creator's tenant restriction). It never carries platform capabilities.
 */
export async function loadTokenPrincipal(
  db: Kysely<Database>,
  token: { id: string; workspaceId: string; role: Role; createdBy: string },
): Promise<Principal | undefined> {
  const creator = await db
    .selectFrom('users')
    .innerJoin('memberships', 'memberships.user_id', 'users.id')
    .select(['users.id', 'users.email', 'users.name', 'memberships.tenant_ids'])
    .where('users.id', '=', token.createdBy)
    .where('memberships.workspace_id', '=', token.workspaceId)
    .executeTakeFirst();
  if (!creator) return undefined;
  return {
    userId: creator.id,
    email: creator.email,
    name: creator.name,
    via: 'token',
    tokenId: token.id,
    workspaces: await resolveWorkspaces(db, [
      { workspaceId: token.workspaceId, role: token.role, tenantIds: creator.tenant_ids },
    ]),
    platform: [],
  };
}

async function resolveWorkspaces(
  db: Kysely<Database>,
  grants: MembershipGrant[],
): Promise<WorkspaceAccess[]> {
  if (!grants.length) return [];
  const ids = grants.map((g) => g.workspaceId);
  const [workspaces, tenants] = await Promise.all([
    db.selectFrom('workspaces').select(['id', 'slug', 'name']).where('id', 'in', ids).execute(),
    db
      .selectFrom('tenants')
      .select(['id', 'workspace_id', 'slug', 'name', 'status'])
      .where('workspace_id', 'in', ids)
      .orderBy('slug')
      .execute(),
  ]);
  return workspaces
    .map((ws) => {
      const grant = grants.find((g) => g.workspaceId === ws.id) as MembershipGrant;
      const visible = tenants.filter(
        (t) =>
          t.workspace_id === ws.id && (grant.tenantIds === null || grant.tenantIds.includes(t.id)),
      );
      return {
        id: ws.id,
        slug: ws.slug,
        name: ws.name,
        role: grant.role,
        capabilities: roleCapabilities(grant.role),
        restrictedTo: grant.tenantIds,
        tenants: visible.map(({ id, slug, name, status }) => ({ id, slug, name, status })),
      };
    })
    .sort((a, b) => a.slug.localeCompare(b.slug));
}

/** How the audit log names a caller. */
export function actorOf(principal: Principal): { userId: string; kind: 'user' | 'token' } {
  return { userId: principal.userId, kind: principal.via === 'token' ? 'token' : 'user' };
}
