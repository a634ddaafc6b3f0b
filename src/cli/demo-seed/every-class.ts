import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { RunService } from '../../runs/run-service.js';
import type { DemoIds } from './people.js';

const HOUR = 3600_000;

/**
 * The runs that make the demo show every class on first start (issue #14 point 14), beside the
 * history's finished ones:
 * - a likely-stale `mailbox_archive.export`, its worker silent for 6 h 1 min. The type reports
 *   every two hours, so it is judged lost after 6 h, and a reconciler that just started waits that
 *   long before judging heartbeats: the run stays likely stale, not reconciled, for hours, and its
 *   page says when it is marked failed (one loss window after it went stale: 5 h 59 min on).
 * - a handed-back `inventory.sync`: its first worker shut down mid-run, another finished it.
 * Returns how many runs it wrote.
 */
export async function seedEveryClass(
  db: Kysely<Database>,
  ids: DemoIds,
  now: Date,
): Promise<number> {
  let at = now.getTime();
  const runs = new RunService({ db, clock: () => new Date(at) });
  const create = async (type: string, by: string, input: Record<string, unknown>) =>
    (
      await runs.createOrReuse({
        workspaceId: ids.contoso,
        tenantId: ids.prod,
        type,
        identity: { seededAt: at },
        input,
        initiatorUserId: by,
      })
    ).run.id;

  at = now.getTime() - 7 * HOUR;
  const quiet = await create('mailbox_archive.export', ids.owner, { scope: 'all' });
  at += 60_000;
  await runs.markRunning(quiet, { workerId: 'demo-worker-2' });
  at = now.getTime() - 6 * HOUR - 60_000;
  await runs.reportProgress(quiet, { processed: 18, total: 50 });
  await runs.addCounts(quiet, { mailboxes: 18 });

  at = now.getTime() - 3 * HOUR;
  const handed = await create('inventory.sync', ids.operator, { scope: 'changed' });
  at += 30_000;
  await runs.markRunning(handed, { workerId: 'demo-worker-1' });
  at += 45_000;
  await runs.reportProgress(handed, { processed: 14, total: 30 });
  at += 5_000;
  await runs.handBack(handed, 'worker_shutdown');
  at += 20_000;
  await runs.markRunning(handed, { workerId: 'demo-worker-2' });
  at += 60_000;
  await runs.reportProgress(handed, { processed: 30, total: 30 });
  await runs.complete(handed, { outcome: 'succeeded', counts: { items: 30 } });
  return 2;
}

/**
 * Notices older than a day are marked read as of when they were sent: a new owner meets the last
 * day's few, not three weeks of history as unread.
 */
export async function readOldNotices(db: Kysely<Database>, now: Date): Promise<void> {
  const dayAgo = new Date(now.getTime() - 24 * HOUR);
  await db
    .updateTable('notifications')
    .set((eb) => ({ read_at: eb.ref('created_at') }))
    .where('read_at', 'is', null)
    .where('created_at', '<', dayAgo)
    .execute();
}
