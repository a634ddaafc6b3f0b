import type { Capability } from '../domain/capabilities.js';
import { SEE_ALL, seeScopes, type Visibility, type VisibleScope } from '../domain/visibility.js';
import type { Principal, WorkspaceAccess } from './principal.js';

/**
 * What a caller may see, as ONE value the read model applies (DESIGN §10). Routes make it here
 * and never re-encode a tenant restriction themselves.
 */

/** One workspace as its access allows: every run, or only the caller's tenants' runs. */
export function scopeOf(access: WorkspaceAccess): VisibleScope {
  if (!access.restrictedTo) return { workspaceId: access.id, tenantIds: null };
  return { workspaceId: access.id, tenantIds: access.tenants.map((t) => t.id), fleetParents: true };
}

/**
 * One workspace the caller was authorized for, optionally narrowed to one of its tenants (which
 * `authorize` has already found visible).
 */
export function workspaceVisibility(access: WorkspaceAccess, tenantId?: string | null): Visibility {
  return seeScopes([
    tenantId ? { workspaceId: access.id, tenantIds: [tenantId] } : scopeOf(access),
  ]);
}

/** Every workspace where the caller holds `capability` (all of them when none is named). */
export function principalVisibility(principal: Principal, capability?: Capability): Visibility {
  return seeScopes(
    principal.workspaces
      .filter((w) => !capability || w.capabilities.includes(capability))
      .map(scopeOf),
  );
}

/** The system plane: platform staff (authorized for it) see every workspace's runs. */
export const platformVisibility: Visibility = SEE_ALL;
