import type { Db } from '../../src/db/pool.js';
import type { Role } from '../../src/db/schema.js';
import { uuidv7 } from '../../src/domain/uuid.js';

export interface Scope {
  workspaceId: string;
  tenantId: string;
  inactiveTenantId: string;
  userId: string;
}

/** A workspace with an active and an inactive tenant and one owner. */
export async function seedScope(db: Db, options: { role?: Role } = {}): Promise<Scope> {
  const workspaceId = uuidv7();
  const tenantId = uuidv7();
  const inactiveTenantId = uuidv7();
  const userId = uuidv7();
  const slug = workspaceId.slice(-12);
  await db
    .insertInto('workspaces')
    .values({ id: workspaceId, slug: `ws-${slug}`, name: 'Contoso' })
    .execute();
  await db
    .insertInto('tenants')
    .values([
      { id: tenantId, workspace_id: workspaceId, slug: 'prod', name: 'Contoso Prod' },
      {
        id: inactiveTenantId,
        workspace_id: workspaceId,
        slug: 'legacy',
        name: 'Legacy',
        status: 'inactive',
      },
    ])
    .execute();
  await db
    .insertInto('users')
    .values({ id: userId, email: `owner-${slug}@demo.test`, name: 'Owner', password_hash: null })
    .execute();
  await db
    .insertInto('memberships')
    .values({
      id: uuidv7(),
      workspace_id: workspaceId,
      user_id: userId,
      role: options.role ?? 'owner',
      tenant_ids: null,
    })
    .execute();
  return { workspaceId, tenantId, inactiveTenantId, userId };
}

/** A controllable clock: tests move time instead of waiting for it. */
export function testClock(start = new Date('2026-11-01T12:00:00.000Z')) {
  let now = start.getTime();
  const clock = () => new Date(now);
  return Object.assign(clock, {
    advance(ms: number) {
      now += ms;
    },
    set(date: Date) {
      now = date.getTime();
    },
  });
}
