import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';

/** Minutes older than this become hours (DESIGN §18). */
export const MINUTES_KEPT_HOURS = 48;
/** Inbox rows moved per statement. */
const FOLD_BATCH = 50_000;
/** Advisory lock key: one fold at a time across every Runwarden process. */
const FOLD_LOCK_KEY = 7_261_734_004;

export interface FoldReport {
  /** false when another process was folding. */
  ran: boolean;
  folded: number;
  coarsened: number;
  expired: number;
}

const counts = sql.raw(`
  count(*) filter (where not reconciled and outcome = 'succeeded'),
  count(*) filter (where not reconciled and outcome = 'partially_succeeded'),
  count(*) filter (where not reconciled and outcome = 'failed'),
  count(*) filter (where not reconciled and outcome = 'blocked'),
  count(*) filter (where not reconciled and outcome = 'cancelled'),
  count(*) filter (where reconciled)`);
const columns = sql.raw(`workspace_id, tenant, type, at, minutes, succeeded, partially_succeeded,
  failed, blocked, cancelled, reconciled, waits, wait_hist, durations, duration_hist`);
const addUp = sql.raw(`
  succeeded = r.succeeded + excluded.succeeded,
  partially_succeeded = r.partially_succeeded + excluded.partially_succeeded,
  failed = r.failed + excluded.failed,
  blocked = r.blocked + excluded.blocked,
  cancelled = r.cancelled + excluded.cancelled,
  reconciled = r.reconciled + excluded.reconciled,
  waits = r.waits + excluded.waits,
  wait_hist = runwarden_hist_sum(r.wait_hist, excluded.wait_hist),
  durations = r.durations + excluded.durations,
  duration_hist = runwarden_hist_sum(r.duration_hist, excluded.duration_hist)`);

/**
 * Ended runs as the rollups' rows: each run under its (tenant, type), (tenant, all types), and —
 * unless it is a fleet's child — (all tenants, type) and (all, all). `from` yields inbox rows.
 */
export function keyedSql(from: RawBuilder<unknown>) {
  return sql`select e.workspace_id, k.tenant, k.type, e.completed_at, e.outcome, e.reconciled,
      e.wait_bin, e.duration_bin
    from ${from} e
    cross join lateral (values ('*', '*'), ('*', e.type), (e.tenant, '*'), (e.tenant, e.type))
      as k(tenant, type)
    where k.tenant <> '*' or not e.child`;
}

/**
 * Moves up to FOLD_BATCH inbox rows into the minute rollups in one statement: what leaves the
 * inbox is what the rollups gain, in the same commit (a crash loses nothing and adds nothing).
 */
async function foldBatch(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    with taken as (
      delete from run_rollup_inbox
      where seq in (select seq from run_rollup_inbox order by seq limit ${FOLD_BATCH})
      returning *
    ),
    kept as (
      select t.* from taken t where exists (select 1 from workspaces w where w.id = t.workspace_id)
    ),
    added as (
      insert into run_rollups as r (${columns})
      select workspace_id, tenant, type, date_trunc('minute', completed_at) as at, 1, ${counts},
        count(wait_bin), runwarden_hist(wait_bin), count(duration_bin), runwarden_hist(duration_bin)
      from (${keyedSql(sql`kept`)}) keyed
      group by 1, 2, 3, 4
      order by 1, 2, 3, 4
      on conflict (workspace_id, tenant, type, at, minutes) do update set ${addUp}
    )
    select count(*) as n from taken`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** Minute rows before `before` merged into their hours. */
async function coarsen(db: Kysely<Database>, before: Date): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    with gone as (
      delete from run_rollups where minutes = 1 and at < date_trunc('hour', ${before}::timestamptz)
      returning *
    ),
    added as (
      insert into run_rollups as r (${columns})
      select workspace_id, tenant, type, date_trunc('hour', at), 60, sum(succeeded),
        sum(partially_succeeded), sum(failed), sum(blocked), sum(cancelled), sum(reconciled),
        sum(waits), runwarden_hist_merge(wait_hist), sum(durations), runwarden_hist_merge(duration_hist)
      from gone group by 1, 2, 3, 4
      order by 1, 2, 3, 4
      on conflict (workspace_id, tenant, type, at, minutes) do update set ${addUp}
    )
    select count(*) as n from gone`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * The rollups' upkeep: folds the inbox, turns minutes older than 2 days into hours, and drops what
 * is older than retention keeps runs (`retentionDays`; none when unset). One process at a time.
 */
export async function foldRollups(
  db: Kysely<Database>,
  options: { now?: Date; retentionDays?: number } = {},
): Promise<FoldReport> {
  const now = options.now ?? new Date();
  const report: FoldReport = { ran: false, folded: 0, coarsened: 0, expired: 0 };
  await db.connection().execute(async (conn) => {
    const locked = await sql<{
      ok: boolean;
    }>`select pg_try_advisory_lock(${FOLD_LOCK_KEY}) as ok`.execute(conn);
    if (!locked.rows[0]?.ok) return;
    report.ran = true;
    try {
      for (;;) {
        const n = await foldBatch(conn);
        report.folded += n;
        if (n < FOLD_BATCH) break;
      }
      report.coarsened = await coarsen(
        conn,
        new Date(now.getTime() - MINUTES_KEPT_HOURS * 3_600_000),
      );
      if (options.retentionDays) {
        const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000);
        const gone = await conn
          .deleteFrom('run_rollups')
          .where('at', '<', cutoff)
          .executeTakeFirst();
        report.expired = Number(gone.numDeletedRows);
      }
    } finally {
      await sql`select pg_advisory_unlock(${FOLD_LOCK_KEY})`.execute(conn);
    }
  });
  return report;
}

/**
 * The fold as a process's upkeep (every minute; src/lifecycle/upkeep.ts). Charts read the inbox
 * too, so what it has not folded yet is shown all the same; the fold keeps the inbox small.
 */
export function rollupFold(db: Kysely<Database>, retentionDays?: number) {
  return {
    name: 'rollups',
    async run(logger: Logger) {
      const report = await foldRollups(db, retentionDays ? { retentionDays } : {});
      if (report.folded || report.coarsened || report.expired)
        logger.debug({ ...report }, 'rollups folded');
    },
  };
}
