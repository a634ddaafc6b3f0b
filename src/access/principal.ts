import { type Expression, type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, Role, TenantStatus } from '../db/schema.js';
import {
  type Capability,
  outranks,
  PLATFORM_CAPABILITIES,
  type PlatformCapability,
  roleCapabilities,
} from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';

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
  /** null for a service token: it acts for its workspace, not a person (no email either). */
  userId: string | null;
  email: string;
  name: string;
  via: 'session' | 'token';
  tokenId?: string;
  /** A service token's name: its actions are audited as `service:<name>`. */
  service?: { name: string };
  workspaces: WorkspaceAccess[];
  platform: PlatformCapability[];
}

interface MembershipGrant {
  workspaceId: string;
  role: Role;
  tenantIds: string[] | null;
}

/** A user as `userRowSql` reads it: the user and every membership, with workspace and tenants. */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  platform_capabilities: string[];
  grants: Array<
    MembershipGrant & {
      slug: string;
      name: string;
      tenants: Array<TenantAccess & { workspace_id: string }>;
    }
  >;
}

/**
 * The one statement that reads a user for a principal: no row when the user is disabled (or gone).
 * `userId` is a value or a column (the session store reads it beside the session, in the same
 * statement and snapshot).
 */
export function userRowSql(userId: Expression<string | null> | string): RawBuilder<UserRow> {
  return sql<UserRow>`
    select u.id, u.email, u.name, u.platform_capabilities,
      coalesce((
        select json_agg(json_build_object(
          'workspaceId', m.workspace_id, 'role', m.role, 'tenantIds', m.tenant_ids,
          'slug', w.slug, 'name', w.name,
          'tenants', coalesce((
            select json_agg(json_build_object('id', t.id, 'workspace_id', t.workspace_id,
              'slug', t.slug, 'name', t.name, 'status', t.status) order by t.slug)
            from tenants t where t.workspace_id = w.id), '[]'::json)))
        from memberships m join workspaces w on w.id = m.workspace_id
        where m.user_id = u.id), '[]'::json) as grants
    from users u where u.id = ${userId} and u.disabled_at is null`;
}

/** The user and every membership, with workspace and tenants, in ONE round trip (per request). */
export async function loadUserPrincipal(
  db: Kysely<Database>,
  userId: string,
): Promise<Principal | undefined> {
  const { rows } = await userRowSql(userId).execute(db);
  return rows[0] ? userPrincipal(rows[0]) : undefined;
}

/** A session caller's principal from the user row `userRowSql` read. */
export function userPrincipal(user: UserRow): Principal {
  return principalOf(user, {
    via: 'session',
    workspaces: user.grants
      .map((g) => toAccess(g, { id: g.workspaceId, slug: g.slug, name: g.name }, g.tenants))
      .sort((x, y) => x.slug.localeCompare(y.slug)),
    platform: user.platform_capabilities.filter((c): c is PlatformCapability =>
      (PLATFORM_CAPABILITIES as readonly string[]).includes(c),
    ),
  });
}

/**
 * A token acts in its one workspace with its role, and only while its creator is still a member
 * there: it inherits the creator's tenant restriction, and never acts with more than the
 * creator's role there now. It never carries platform capabilities.
 */
export async function loadTokenPrincipal(
  db: Kysely<Database>,
  token: { id: string; workspaceId: string; name: string; role: Role; createdBy: string | null },
): Promise<Principal | undefined> {
  if (token.createdBy === null) return await servicePrincipal(db, token);
  const creator = await db
    .selectFrom('users')
    .innerJoin('memberships', 'memberships.user_id', 'users.id')
    .select(['users.id', 'users.email', 'users.name', 'memberships.role', 'memberships.tenant_ids'])
    .where('users.id', '=', token.createdBy)
    .where('users.disabled_at', 'is', null)
    .where('memberships.workspace_id', '=', token.workspaceId)
    .executeTakeFirst();
  if (!creator) return undefined;
  return principalOf(creator, {
    via: 'token',
    tokenId: token.id,
    workspaces: await resolveWorkspaces(db, [
      {
        workspaceId: token.workspaceId,
        // Never more than its creator holds now: a demoted owner's token is demoted with them.
        role: outranks(token.role, creator.role) ? creator.role : token.role,
        tenantIds: creator.tenant_ids,
      },
    ]),
    platform: [],
  });
}

/** A service token acts for its workspace with its role over every tenant, for nobody in person. */
async function servicePrincipal(
  db: Kysely<Database>,
  token: { id: string; workspaceId: string; name: string; role: Role },
): Promise<Principal> {
  return {
    userId: null,
    email: '',
    name: token.name,
    via: 'token',
    tokenId: token.id,
    service: { name: token.name },
    workspaces: await resolveWorkspaces(db, [
      { workspaceId: token.workspaceId, role: token.role, tenantIds: null },
    ]),
    platform: [],
  };
}

function principalOf(
  user: { id: string; email: string; name: string },
  rest: Omit<Principal, 'userId' | 'email' | 'name'>,
): Principal {
  return { userId: user.id, email: user.email, name: user.name, ...rest };
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
    .map((ws) =>
      toAccess(
        grants.find((g) => g.workspaceId === ws.id) as MembershipGrant,
        ws,
        tenants.filter((t) => t.workspace_id === ws.id),
      ),
    )
    .sort((a, b) => a.slug.localeCompare(b.slug));
}

/**
 * What only a member with every tenant may do: managing the workspace's tenants, members and tokens
 * reaches beyond any one tenant (DESIGN §10), so a tenant-restricted member, even an owner, lacks it.
 */
const WORKSPACE_WIDE: readonly Capability[] = ['workspace.manage', 'tokens.manage'];

function toAccess(
  grant: MembershipGrant,
  ws: { id: string; slug: string; name: string },
  tenants: Array<TenantAccess & { workspace_id: string }>,
): WorkspaceAccess {
  const visible = tenants.filter((t) => grant.tenantIds === null || grant.tenantIds.includes(t.id));
  return {
    id: ws.id,
    slug: ws.slug,
    name: ws.name,
    role: grant.role,
    capabilities:
      grant.tenantIds === null
        ? roleCapabilities(grant.role)
        : roleCapabilities(grant.role).filter((c) => !WORKSPACE_WIDE.includes(c)),
    restrictedTo: grant.tenantIds,
    tenants: visible.map(({ id, slug, name, status }) => ({ id, slug, name, status })),
  };
}

/** How the audit log names a caller. */
export function actorOf(principal: Principal): {
  userId: string | null;
  kind: 'user' | 'token' | ServiceActor;
} {
  if (principal.service) return { userId: null, kind: `service:${principal.service.name}` };
  return { userId: principal.userId, kind: principal.via === 'token' ? 'token' : 'user' };
}

/** How the audit log names a service token's actions. */
export type ServiceActor = `service:${string}`;

/** The person calling: a service token acts for its workspace and is nobody (403). */
export function personId(principal: Principal): string {
  if (principal.userId !== null) return principal.userId;
  throw new RunwardenError(
    'forbidden',
    'A service token acts for its workspace, not a person; this needs a signed-in person.',
  );
}
