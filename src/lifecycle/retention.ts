import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { MaintenanceTask } from '../execution/task-list.js';
import { deleteAndArchive } from '../runs/run-totals.js';

/** Advisory lock key: one pruner at a time across every Runwarden process. */
export const PRUNE_LOCK_KEY = 7_261_734_002;
export const PRUNE_BATCH = 5_000;

export interface PruneReport {
  /** false when another process was pruning; nothing was deleted. */
  ran: boolean;
  deleted: number;
  cutoff: Date;
}

/**
 * Retention (DESIGN §9): deletes terminal runs completed before `now - retentionDays`, in batches
 * of 5,000 per workspace, under an advisory lock. Active runs are never touched; their events and
 * notifications go with them (foreign keys cascade); their completions are added to the
 * `/metrics` totals in the same statement (src/runs/run-totals.ts). `onProgress` reports after every batch.
 */
export async function prune(
  db: Kysely<Database>,
  options: {
    retentionDays: number;
    now?: Date;
    batchSize?: number;
    dryRun?: boolean;
    onProgress?: (deleted: number) => void;
  },
): Promise<PruneReport> {
  const cutoff = new Date(
    (options.now ?? new Date()).getTime() - options.retentionDays * 24 * 3600 * 1000,
  );
  const batch = options.batchSize ?? PRUNE_BATCH;
  const report: PruneReport = { ran: false, deleted: 0, cutoff };
  await db.connection().execute(async (conn) => {
    const locked = await sql<{
      ok: boolean;
    }>`select pg_try_advisory_lock(${PRUNE_LOCK_KEY}) as ok`.execute(conn);
    if (!locked.rows[0]?.ok) return;
    report.ran = true;
    try {
      const workspaces = await conn.selectFrom('workspaces').select('id').execute();
      for (const { id: workspaceId } of workspaces) {
        if (options.dryRun) {
          const n = await conn
            .selectFrom('operation_runs')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('workspace_id', '=', workspaceId)
            .where('status', '=', 'completed')
            .where('completed_at', '<', cutoff)
            .executeTakeFirstOrThrow();
          report.deleted += Number(n.n);
          continue;
        }
        for (;;) {
          // Never an active run, whatever happened since; counted into the metrics' totals.
          const deleted = await deleteAndArchive(conn, { workspaceId, cutoff, limit: batch });
          report.deleted += deleted;
          if (deleted > 0) options.onProgress?.(report.deleted);
          if (deleted < batch) break;
        }
      }
    } finally {
      await sql`select pg_advisory_unlock(${PRUNE_LOCK_KEY})`.execute(conn);
    }
  });
  return report;
}

/**
 * The daily prune as a worker's maintenance task (DESIGN §9): at 03:15 UTC, terminal runs older
 * than `retentionDays` go, and the worker logs what was deleted. Whoever composes the process
 * hands it to `startWorker`.
 */
export function dailyPrune(db: Kysely<Database>, retentionDays: number): MaintenanceTask {
  return {
    identifier: 'prune',
    match: '15 3 * * *',
    async task({ logger }) {
      const report = await prune(db, { retentionDays });
      logger.info(
        { deleted: report.deleted, cutoff: report.cutoff, ran: report.ran },
        'daily retention prune',
      );
    },
  };
}
