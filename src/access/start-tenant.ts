import { RunwardenError } from '../domain/errors.js';
import { isUuid } from '../domain/uuid.js';
import { authenticated, findWorkspace, notFound } from './authorize.js';
import type { Principal } from './principal.js';

/**
 * The tenant an HTTP start names: `tenantId`, or `tenant` by slug (or id) as the library takes it
 * (DESIGN §15), among the tenants the caller may see. A slug nobody has and a tenant the caller
 * may not see answer the same 404; `tenant` and `tenantId` naming two tenants is a 400.
 */
export function startTenantId(
  principal: Principal | undefined,
  ws: string,
  refs: { tenant?: string | null; tenantId?: string | null },
): string | null {
  const { tenant, tenantId } = refs;
  if (!tenant) return tenantId ?? null;
  const access = findWorkspace(authenticated(principal), ws);
  if (!access) throw notFound('workspace');
  const ref = tenant.toLowerCase();
  const found = access.tenants.find((t) => (isUuid(ref) ? t.id === ref : t.slug === ref));
  if (!found) throw notFound('tenant');
  if (tenantId && tenantId.toLowerCase() !== found.id) {
    const message = 'tenant and tenantId name different tenants; send one of them';
    throw new RunwardenError('validation_failed', `${message}.`, {
      details: [{ path: 'tenant', message }],
    });
  }
  return found.id;
}
