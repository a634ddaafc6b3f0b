import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import {
  outranks,
  PLATFORM_CAPABILITIES,
  type PlatformCapability,
  ROLES,
  type RoleName,
} from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';
import { createDirectory, type DirectoryActor } from './directory.js';
import { Email } from './directory-input.js';
import { checkSsoIdentity, linkSsoIdentity, type SsoIdentity } from './sso-link.js';

/** What a sign-in's role claim grants (DESIGN §15). */
export interface OidcGrants {
  /** Workspace slug → role (the most rights when a workspace is named more than once). */
  workspaces: Map<string, RoleName>;
  platform: PlatformCapability[];
  /** Values that look like ours but name no role or capability (logged, never applied). */
  ignored: string[];
}

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/**
 * Reads the role claim: values `runwarden:<workspace-slug>:<role>` and
 * `runwarden:platform:<capability>`; a string claim may hold several values separated by spaces
 * or commas. Anything else is not ours and is skipped.
 */
export function parseOidcGrants(claim: unknown): OidcGrants {
  const values = (Array.isArray(claim) ? claim : typeof claim === 'string' ? [claim] : [])
    .filter((v): v is string => typeof v === 'string')
    .flatMap((v) => v.split(/[\s,]+/))
    .filter((v) => v.startsWith('runwarden:'));
  const grants: OidcGrants = { workspaces: new Map(), platform: [], ignored: [] };
  for (const value of values) {
    const [, scope = '', what = '', ...rest] = value.split(':');
    if (rest.length) {
      grants.ignored.push(value);
    } else if (scope === 'platform') {
      if ((PLATFORM_CAPABILITIES as readonly string[]).includes(what)) {
        if (!grants.platform.includes(what as PlatformCapability))
          grants.platform.push(what as PlatformCapability);
      } else grants.ignored.push(value);
    } else if (SLUG.test(scope) && (ROLES as readonly string[]).includes(what)) {
      const role = what as RoleName;
      const held = grants.workspaces.get(scope);
      // The higher role wins.
      if (!held || outranks(role, held)) grants.workspaces.set(scope, role);
    } else grants.ignored.push(value);
  }
  grants.platform.sort();
  return grants;
}

export interface AppliedGrants {
  userId: string;
  /** Workspace slugs the claim named that do not exist here (nothing is created for them). */
  unknownWorkspaces: string[];
  /** Memberships the claim no longer grants but that could not go (a workspace's last owner). */
  kept: string[];
  /** A password someone else may know was revoked, with the account's sessions. */
  passwordRevoked: boolean;
}

/**
 * Makes the user's memberships and platform capabilities what the claim grants, at each sign-in:
 * adds and changes what it grants, removes what it no longer does. Every write goes through the
 * directory module (audited, source `http`); the user is created on their first sign-in. A
 * membership's tenant restriction, set by an owner, is kept. A disabled user, or an account
 * linked to another identity at the provider, is refused (`forbidden`) before anything is written;
 * an existing account is linked (and a password someone else may know revoked) before it gains
 * anything.
 */
export async function applyOidcGrants(
  db: Kysely<Database>,
  person: { email: string; name?: string | undefined; identity: SsoIdentity },
  grants: OidcGrants,
  options: { publicUrl?: string } = {},
): Promise<AppliedGrants> {
  // The claim as any directory email is read: one that folds onto another address is refused.
  const parsed = Email.safeParse(person.email);
  if (!parsed.success)
    throw new RunwardenError('bad_request', 'The provider sent an email Runwarden cannot use.');
  const email = parsed.data;
  const existing = await db
    .selectFrom('users')
    .select(['id', 'disabled_at', 'oidc_issuer', 'oidc_subject'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
    .executeTakeFirst();
  if (existing?.disabled_at) throw new RunwardenError('forbidden', `${email} is disabled.`);
  await checkSsoIdentity(db, existing, person.identity);
  const link = existing ? await linkSsoIdentity(db, existing.id, person.identity) : undefined;

  const actor: DirectoryActor = { userId: existing?.id ?? null, kind: 'system', source: 'http' };
  const directory = createDirectory({
    db,
    actor,
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
  });
  // Sets the platform capabilities to exactly the granted ones, and creates the user when new.
  const { userId } = await directory.setPlatformStaff({
    email,
    ...(person.name?.trim() ? { name: person.name.trim().slice(0, 200) } : {}),
    capabilities: grants.platform,
  });

  const passwordRevoked = (link ?? (await linkSsoIdentity(db, userId, person.identity)))
    .passwordRevoked;

  const known = await db
    .selectFrom('workspaces')
    .select('slug')
    .where('slug', 'in', grants.workspaces.size ? [...grants.workspaces.keys()] : [''])
    .execute();
  const knownSlugs = new Set(known.map((w) => w.slug));
  const unknownWorkspaces = [...grants.workspaces.keys()].filter((s) => !knownSlugs.has(s));
  for (const [workspace, role] of grants.workspaces) {
    if (knownSlugs.has(workspace)) await directory.upsertMember({ workspace, email, role });
  }

  const current = await db
    .selectFrom('memberships')
    .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
    .select('workspaces.slug')
    .where('memberships.user_id', '=', userId)
    .execute();
  const kept: string[] = [];
  for (const { slug } of current) {
    if (grants.workspaces.has(slug)) continue;
    try {
      await directory.removeMember({ workspace: slug, email });
    } catch (error) {
      if (!(error instanceof RunwardenError) || error.code !== 'conflict') throw error;
      kept.push(slug); // the workspace's last owner stays until another owner exists
    }
  }
  return { userId, unknownWorkspaces, kept, passwordRevoked };
}
