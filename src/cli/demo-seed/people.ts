import type { Kysely } from 'kysely';
import type { Database, Role } from '../../db/schema.js';
import { uuidv7 } from '../../domain/uuid.js';

/** The demo logins (DESIGN §13); all share one password. */
export const DEMO_LOGINS = [
  { email: 'owner@demo.test', description: 'Owner of Contoso (every surface, tokens)' },
  { email: 'operator@demo.test', description: 'Operator at Contoso (view and start)' },
  { email: 'readonly@demo.test', description: 'Read-only at Contoso' },
  { email: 'outsider@demo.test', description: 'Owner of Fabrikam only (sees nothing of Contoso)' },
  { email: 'platform@demo.test', description: 'Platform staff (system plane)' },
] as const;

/** The ids the demo's people and places get, for the history and the live runs to refer to. */
export interface DemoIds {
  contoso: string;
  fabrikam: string;
  prod: string;
  dev: string;
  legacy: string;
  fabrikamProd: string;
  owner: string;
  operator: string;
}

/** Workspaces, tenants, the five logins and their memberships, in one transaction. */
export async function seedPeople(db: Kysely<Database>, passwordHash: string): Promise<DemoIds> {
  const ids: DemoIds = {
    contoso: uuidv7(),
    fabrikam: uuidv7(),
    prod: uuidv7(),
    dev: uuidv7(),
    legacy: uuidv7(),
    fabrikamProd: uuidv7(),
    owner: uuidv7(),
    operator: uuidv7(),
  };
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('workspaces')
      .values([
        { id: ids.contoso, slug: 'contoso', name: 'Contoso' },
        { id: ids.fabrikam, slug: 'fabrikam', name: 'Fabrikam' },
      ])
      .execute();
    await trx
      .insertInto('tenants')
      .values([
        {
          id: ids.prod,
          workspace_id: ids.contoso,
          slug: 'contoso-prod',
          name: 'Contoso Production',
        },
        {
          id: ids.dev,
          workspace_id: ids.contoso,
          slug: 'contoso-dev',
          name: 'Contoso Development',
        },
        {
          id: ids.legacy,
          workspace_id: ids.contoso,
          slug: 'contoso-legacy',
          name: 'Contoso Legacy',
          status: 'inactive',
        },
        {
          id: ids.fabrikamProd,
          workspace_id: ids.fabrikam,
          slug: 'fabrikam-prod',
          name: 'Fabrikam Production',
        },
      ])
      .execute();
    const readonly = uuidv7();
    const outsider = uuidv7();
    const platform = uuidv7();
    await trx
      .insertInto('users')
      .values([
        {
          id: ids.owner,
          email: 'owner@demo.test',
          name: 'Olivia Owner',
          password_hash: passwordHash,
        },
        {
          id: ids.operator,
          email: 'operator@demo.test',
          name: 'Oscar Operator',
          password_hash: passwordHash,
        },
        {
          id: readonly,
          email: 'readonly@demo.test',
          name: 'Rita Readonly',
          password_hash: passwordHash,
        },
        {
          id: outsider,
          email: 'outsider@demo.test',
          name: 'Otto Outsider',
          password_hash: passwordHash,
        },
        {
          id: platform,
          email: 'platform@demo.test',
          name: 'Pat Platform',
          password_hash: passwordHash,
          platform_capabilities: ['system.ops.view', 'system.ops.triage'],
        },
      ])
      .execute();
    const member = (workspace_id: string, user_id: string, role: Role) => ({
      id: uuidv7(),
      workspace_id,
      user_id,
      role,
      tenant_ids: null,
    });
    await trx
      .insertInto('memberships')
      .values([
        member(ids.contoso, ids.owner, 'owner'),
        member(ids.contoso, ids.operator, 'operator'),
        member(ids.contoso, readonly, 'readonly'),
        member(ids.fabrikam, outsider, 'owner'),
      ])
      .execute();
  });
  return ids;
}
