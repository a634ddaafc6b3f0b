import type { Capability, PlatformCapability } from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';
import { startDenial } from '../domain/start-rights.js';
import { isUuid } from '../domain/uuid.js';
import { coversScope } from '../domain/visibility.js';
import type { Principal, WorkspaceAccess } from './principal.js';

export type Target =
  /** A workspace by id or slug, optionally narrowed to one of its tenants. */
  | { kind: 'workspace'; ref: string; tenantId?: string | null }
  /** Something that lives in a workspace (a run): judged by its own scope. */
  | {
      kind: 'scoped';
      what: string;
      workspaceId: string;
      tenantId: string | null;
      /** A fleet's parent: its children's tenants (a restricted member sees it if all are theirs). */
      fleetTenants?: readonly string[];
    }
  | { kind: 'platform' };

/** The same body for a thing that does not exist and a thing the caller may not see. */
export function notFound(what: string): RunwardenError {
  return new RunwardenError('not_found', `No such ${what}.`);
}

/**
 * The one authorization rule (DESIGN §10). Anonymous → 401. Not entitled to see the target (not a
 * member, a tenant outside the caller's restriction, the system plane for non-staff) → 404, exactly
 * as if it did not exist. Entitled but lacking the capability → 403.
 */
export function authorize(
  principal: Principal | undefined,
  target: { kind: 'platform' },
  capability: PlatformCapability,
): { principal: Principal };
export function authorize(
  principal: Principal | undefined,
  target: Exclude<Target, { kind: 'platform' }>,
  capability: Capability,
): { principal: Principal; access: WorkspaceAccess };
export function authorize(
  principal: Principal | undefined,
  target: Target,
  capability: Capability | PlatformCapability,
): { principal: Principal; access?: WorkspaceAccess } {
  if (!principal) throw new RunwardenError('unauthenticated', 'Log in or send an API token.');
  if (target.kind === 'platform') {
    if (!principal.platform.length) throw notFound('page');
    if (!principal.platform.includes(capability as PlatformCapability)) throw lacking(capability);
    return { principal };
  }
  const access = entitled(principal, target);
  if (!access.capabilities.includes(capability as Capability)) throw lacking(capability);
  return { principal, access };
}

/**
 * Starting (or reusing) a run of `tenantId` (null: a workspace-level run) in a workspace, by the
 * execution gate's own rule (`startDenial`). A scope the caller's tenant restriction does not
 * cover answers 404 as a hidden tenant does, so the answer never hands them another's run.
 */
export function authorizeStart(
  principal: Principal | undefined,
  ref: string,
  tenantId: string | null,
): { principal: Principal; access: WorkspaceAccess } {
  const caller = authenticated(principal);
  const access = entitled(caller, { kind: 'workspace', ref, tenantId });
  const denial = startDenial({ role: access.role, tenantIds: access.restrictedTo }, { tenantId });
  if (denial === 'scope') throw notFound('tenant');
  if (denial === 'role') throw lacking('operations.start');
  return { principal: caller, access };
}

/** The caller's access to a target, if they may see it at all; otherwise the target's 404. */
function entitled(
  principal: Principal,
  target: Exclude<Target, { kind: 'platform' }>,
): WorkspaceAccess {
  const [what, access] =
    target.kind === 'workspace'
      ? ['workspace', findWorkspace(principal, target.ref)]
      : [target.what, principal.workspaces.find((w) => w.id === target.workspaceId)];
  if (!access) throw notFound(what);
  if (target.tenantId && !access.tenants.some((t) => t.id === target.tenantId)) {
    throw notFound(target.kind === 'workspace' ? 'tenant' : what);
  }
  // A tenant-restricted member sees only their tenants' runs, not workspace-level ones.
  if (target.kind === 'scoped' && !coversScope(access.restrictedTo, target.tenantId)) {
    const restricted = access.restrictedTo;
    const fleet = target.fleetTenants;
    // DESIGN §19: a parent is seen by whoever may see every one of its children's tenants.
    if (!restricted || !fleet?.length || !fleet.every((t) => restricted.includes(t)))
      throw notFound(what);
  }
  return access;
}

export function findWorkspace(principal: Principal, ref: string): WorkspaceAccess | undefined {
  return principal.workspaces.find((w) => (isUuid(ref) ? w.id === ref : w.slug === ref));
}

function lacking(capability: string): RunwardenError {
  return new RunwardenError('forbidden', `You do not have the ${capability} permission here.`, {
    details: { capability },
  });
}

/** Any signed-in caller (a route open to everyone who is logged in). */
export function authenticated(principal: Principal | undefined): Principal {
  if (!principal) throw new RunwardenError('unauthenticated', 'Log in or send an API token.');
  return principal;
}
