import { type Kysely, sql } from 'kysely';

// A deferred statement (migration 0011: the worker's hot path announces its changes itself) no
// longer queues the row trigger at all: the trigger's WHEN reads the setting, so an update that
// will not notify costs no PL/pgSQL call and no after-trigger event. The function keeps its own
// check for any other caller.
const CHANGED = `old.status is distinct from new.status or old.outcome is distinct from new.outcome
      or old.progress_processed is distinct from new.progress_processed
      or old.progress_total is distinct from new.progress_total
      or old.summary_counts is distinct from new.summary_counts
      or old.cancel_requested_at is distinct from new.cancel_requested_at
      or old.attempt is distinct from new.attempt or old.reviewed_at is distinct from new.reviewed_at
      or old.failures is distinct from new.failures`;

async function updateTrigger(db: Kysely<unknown>, when: string): Promise<void> {
  await sql`drop trigger if exists operation_runs_notify_update on operation_runs`.execute(db);
  await sql
    .raw(`create trigger operation_runs_notify_update after update on operation_runs
    for each row when (${when})
    execute function runwarden_notify_run_change()`)
    .execute(db);
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await updateTrigger(
    db,
    `current_setting('runwarden.notify', true) is distinct from 'deferred' and (${CHANGED})`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await updateTrigger(db, CHANGED);
}
