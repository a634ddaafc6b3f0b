import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { directoryManaged } from './directory.js';

export type DemoSeedDecision = { seed: true } | { seed: false; reason: string };

/**
 * Production is not the demo (DESIGN §13): `runwarden start` seeds the demo only into an empty
 * database (or refreshes a demo already there), never once a directory is managed here (a
 * bootstrap, a sync or any directory write left its marker), never into a database holding
 * workspaces or users that are not the demo's, and never with RUNWARDEN_DEMO=false.
 */
export async function demoSeedDecision(
  db: Kysely<Database>,
  options: { enabled: boolean; demoWorkspaceSlug: string },
): Promise<DemoSeedDecision> {
  if (!options.enabled) return { seed: false, reason: 'RUNWARDEN_DEMO=false' };
  if (await directoryManaged(db))
    return { seed: false, reason: 'a directory is managed here (runwarden admin …)' };
  const [workspace, user, demo] = await Promise.all([
    db.selectFrom('workspaces').select('id').limit(1).executeTakeFirst(),
    db.selectFrom('users').select('id').limit(1).executeTakeFirst(),
    db
      .selectFrom('workspaces')
      .select('id')
      .where('slug', '=', options.demoWorkspaceSlug)
      .executeTakeFirst(),
  ]);
  if ((workspace || user) && !demo)
    return { seed: false, reason: 'the database holds workspaces or users that are not the demo' };
  return { seed: true };
}

/**
 * Whether a process without RUNWARDEN_CONFIG runs the demo catalog: only where the demo is, i.e.
 * RUNWARDEN_DEMO is on and the database holds the demo (and nothing that would stop its seeding).
 */
export async function demoInUse(
  db: Kysely<Database>,
  options: { enabled: boolean; demoWorkspaceSlug: string },
): Promise<boolean> {
  if (!(await demoSeedDecision(db, options)).seed) return false;
  const demo = await db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', options.demoWorkspaceSlug)
    .executeTakeFirst();
  return demo !== undefined;
}
