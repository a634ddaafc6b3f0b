import { type Kysely, sql } from 'kysely';

// A run a stopping worker gives back to the queue gets its own timeline entry, `handed_back`
// (with the reason), instead of looking like a failed attempt; a `reconcile_only` type's handler
// result is evidence on the timeline, `handler_returned`, until its adapter declares the end.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table run_events drop constraint run_events_kind_check`.execute(db);
  await sql`alter table run_events add constraint run_events_kind_check check (kind in
    ('created', 'start_reused', 'running', 'attempt_failed', 'handed_back', 'cancel_requested',
     'reconciled', 'completed', 'late_completion', 'handler_returned', 'reviewed'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`update run_events set kind = 'attempt_failed' where kind = 'handed_back'`.execute(db);
  await sql`update run_events set kind = 'late_completion' where kind = 'handler_returned'`.execute(
    db,
  );
  await sql`alter table run_events drop constraint run_events_kind_check`.execute(db);
  await sql`alter table run_events add constraint run_events_kind_check check (kind in
    ('created', 'start_reused', 'running', 'attempt_failed', 'cancel_requested', 'reconciled',
     'completed', 'late_completion', 'reviewed'))`.execute(db);
}
