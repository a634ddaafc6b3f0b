import type { Kysely } from 'kysely';
import { createDirectory } from '../../access/directory.js';
import type { Database } from '../../db/schema.js';

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

/** The demo's directory, as a host platform would sync its own (`directory.json`, DESIGN §13). */
const DEMO_DIRECTORY = {
  workspaces: [
    {
      slug: 'contoso',
      name: 'Contoso',
      tenants: [
        { slug: 'contoso-prod', name: 'Contoso Production' },
        { slug: 'contoso-dev', name: 'Contoso Development' },
        { slug: 'contoso-legacy', name: 'Contoso Legacy', status: 'inactive' as const },
      ],
      members: [
        { email: 'owner@demo.test', name: 'Olivia Owner', role: 'owner' as const, tenants: null },
        {
          email: 'operator@demo.test',
          name: 'Oscar Operator',
          role: 'operator' as const,
          tenants: null,
        },
        {
          email: 'readonly@demo.test',
          name: 'Rita Readonly',
          role: 'readonly' as const,
          tenants: null,
        },
      ],
    },
    {
      slug: 'fabrikam',
      name: 'Fabrikam',
      tenants: [{ slug: 'fabrikam-prod', name: 'Fabrikam Production' }],
      members: [
        {
          email: 'outsider@demo.test',
          name: 'Otto Outsider',
          role: 'owner' as const,
          tenants: null,
        },
      ],
    },
  ],
  platformStaff: [
    {
      email: 'platform@demo.test',
      name: 'Pat Platform',
      capabilities: ['system.ops.view' as const, 'system.ops.triage' as const],
    },
  ],
};

/**
 * Workspaces, tenants, the five logins and their memberships, written through the directory
 * module like any host's sync (one transaction, audited as `source: demo`, which does not mark the
 * directory as managed); each login's password is set by redeeming its one-time invite.
 */
export async function seedPeople(db: Kysely<Database>, password: string): Promise<DemoIds> {
  const directory = demoDirectory(db);
  const synced = await directory.sync(DEMO_DIRECTORY);
  for (const invite of synced.invites)
    await directory.redeemInvite(inviteToken(invite.url), password);
  return await demoIds(db);
}

/** Sets every demo login's password again (a second `runwarden start` with a new password). */
export async function resetDemoPasswords(db: Kysely<Database>, password: string): Promise<void> {
  const directory = demoDirectory(db);
  for (const { email } of DEMO_LOGINS) {
    const { invites } = await directory.invite({ email });
    for (const invite of invites) await directory.redeemInvite(inviteToken(invite.url), password);
  }
}

const demoDirectory = (db: Kysely<Database>) =>
  createDirectory({ db, actor: { userId: null, kind: 'system', source: 'demo' } });

const inviteToken = (url: string) => url.slice(url.lastIndexOf('/') + 1);

async function demoIds(db: Kysely<Database>): Promise<DemoIds> {
  const [workspaces, tenants, users] = await Promise.all([
    db.selectFrom('workspaces').select(['id', 'slug']).execute(),
    db.selectFrom('tenants').select(['id', 'slug']).execute(),
    db.selectFrom('users').select(['id', 'email']).execute(),
  ]);
  const id = (rows: Array<{ id: string }>, key: 'slug' | 'email', value: string): string => {
    const row = rows.find((r) => (r as Record<string, unknown>)[key] === value);
    if (!row) throw new Error(`the demo directory has no ${value}`);
    return row.id;
  };
  return {
    contoso: id(workspaces, 'slug', 'contoso'),
    fabrikam: id(workspaces, 'slug', 'fabrikam'),
    prod: id(tenants, 'slug', 'contoso-prod'),
    dev: id(tenants, 'slug', 'contoso-dev'),
    legacy: id(tenants, 'slug', 'contoso-legacy'),
    fabrikamProd: id(tenants, 'slug', 'fabrikam-prod'),
    owner: id(users, 'email', 'owner@demo.test'),
    operator: id(users, 'email', 'operator@demo.test'),
  };
}
