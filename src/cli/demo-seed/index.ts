import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { OperationRegistry } from '../../execution/registry.js';
import { startRun } from '../../execution/start.js';
import { RunService } from '../../runs/run-service.js';
import { readOldNotices, seedEveryClass } from './every-class.js';
import { seedHistory } from './history.js';
import { type DemoIds, resetDemoPasswords, seedPeople } from './people.js';

export { DEMO_LOGINS } from './people.js';

export interface DemoSeedResult {
  seeded: boolean;
  runs: number;
}

/**
 * Seeds the demo of DESIGN §13 once: workspaces, tenants, the five logins, and three weeks of
 * runs in every problem class, written through RunService at their historical times (so timelines,
 * notifications and truth are what real runs would have left). With `live`, it also starts a few
 * real runs for the worker to pick up. A second call changes nothing but the password, if given.
 */
export async function seedDemo(
  deps: { db: Kysely<Database>; registry: OperationRegistry },
  options: {
    password?: string;
    /** Seed the three weeks of runs (default true). */
    history?: boolean;
    live?: boolean;
    now?: Date;
    progress?: (message: string) => void;
  },
): Promise<DemoSeedResult> {
  const say = options.progress ?? (() => undefined);
  const exists = await deps.db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', 'contoso')
    .executeTakeFirst();
  if (exists) {
    if (options.password) {
      await resetDemoPasswords(deps.db, options.password);
      say('demo already seeded; demo password updated');
    } else say('demo already seeded; nothing to do');
    return { seeded: false, runs: 0 };
  }
  if (!options.password) throw new Error('seedDemo needs a password for the demo logins');
  const ids = await seedPeople(deps.db, options.password);
  say('workspaces contoso and fabrikam, 4 tenants, 5 logins');
  const now = options.now ?? new Date();
  let runs = 0;
  if (options.history !== false) {
    runs = await seedHistory(deps.db, ids, now, say);
    runs += await seedEveryClass(deps.db, ids, now);
    await readOldNotices(deps.db, now);
    say('a likely-stale and a handed-back run; notices older than a day marked read');
  }
  if (options.live) await startLive(deps, ids);
  return { seeded: true, runs };
}

/** A few real runs for the worker, so the live surfaces have something active to show. */
async function startLive(
  deps: { db: Kysely<Database>; registry: OperationRegistry },
  ids: DemoIds,
): Promise<void> {
  const runs = new RunService({ db: deps.db });
  const start = (type: string, tenantId: string, by: string, input: Record<string, unknown>) =>
    startRun(
      { db: deps.db, runs, registry: deps.registry },
      {
        type,
        workspaceId: ids.contoso,
        tenantId,
        input,
        initiatorUserId: by,
      },
    );
  if (deps.registry.get('demo.sleep')) {
    await start('demo.sleep', ids.prod, ids.owner, { seconds: 300, total: 300, tag: 'demo live' });
  }
  if (deps.registry.get('inventory.sync')) {
    await start('inventory.sync', ids.dev, ids.operator, { scope: 'changed' });
  }
}
