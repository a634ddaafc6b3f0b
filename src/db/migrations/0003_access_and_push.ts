import { type Kysely, sql } from 'kysely';

// Identity (sessions, API tokens), the shared HTTP secret, triage review marks, and the NOTIFY
// that feeds the live stream (DESIGN §10, §11).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('sid', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index sessions_expires_idx on sessions (expires_at)`.execute(db);

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) =>
      c.notNull().references('workspaces.id').onDelete('cascade'),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addCheckConstraint(
      'api_tokens_role_check',
      sql`role in ('owner', 'manager', 'operator', 'readonly')`,
    )
    .execute();

  // One secret every API process shares: it signs session cookies and list cursors.
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into settings (key, value)
    values ('http_secret', encode(sha256((gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text)::bytea), 'hex')
      || encode(sha256((gen_random_uuid()::text || gen_random_uuid()::text)::bytea), 'hex'))`.execute(
    db,
  );

  await db.schema
    .alterTable('operation_runs')
    .addColumn('reviewed_at', 'timestamptz')
    .addColumn('reviewed_by', 'uuid')
    .execute();
  await sql`alter table run_events drop constraint run_events_kind_check`.execute(db);
  await sql`alter table run_events add constraint run_events_kind_check check (kind in
    ('created', 'start_reused', 'running', 'attempt_failed', 'cancel_requested', 'reconciled',
     'completed', 'late_completion', 'reviewed'))`.execute(db);
  // The follow-up and reconciled lists are a small slice of history; without this, listing them
  // walks the whole list index past millions of successes.
  await sql`create index operation_runs_problem_idx on operation_runs (workspace_id, created_at desc, id desc)
    where outcome in ('failed', 'blocked', 'partially_succeeded')`.execute(db);

  // Every visible change of a run (not a bare heartbeat) is announced on commit; each API process
  // LISTENs once and fans out to its stream clients. `seq` orders events for Last-Event-ID.
  await sql`create sequence run_changes_seq`.execute(db);
  await sql`create function runwarden_notify_run_change() returns trigger language plpgsql as $$
    begin
      perform pg_notify('runwarden_run_changes', json_build_object(
        'seq', nextval('run_changes_seq'), 'id', NEW.id, 'workspaceId', NEW.workspace_id,
        'tenantId', NEW.tenant_id)::text);
      return null;
    end $$`.execute(db);
  await sql`create trigger operation_runs_notify_insert after insert on operation_runs
    for each row execute function runwarden_notify_run_change()`.execute(db);
  await sql`create trigger operation_runs_notify_update after update on operation_runs
    for each row when (
      old.status is distinct from new.status or old.outcome is distinct from new.outcome
      or old.progress_processed is distinct from new.progress_processed
      or old.progress_total is distinct from new.progress_total
      or old.summary_counts is distinct from new.summary_counts
      or old.cancel_requested_at is distinct from new.cancel_requested_at
      or old.attempt is distinct from new.attempt or old.reviewed_at is distinct from new.reviewed_at
      or old.failures is distinct from new.failures)
    execute function runwarden_notify_run_change()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists operation_runs_notify_update on operation_runs`.execute(db);
  await sql`drop trigger if exists operation_runs_notify_insert on operation_runs`.execute(db);
  await sql`drop function if exists runwarden_notify_run_change()`.execute(db);
  await sql`drop sequence if exists run_changes_seq`.execute(db);
  await sql`drop index if exists operation_runs_problem_idx`.execute(db);
  await sql`alter table run_events drop constraint run_events_kind_check`.execute(db);
  await sql`alter table run_events add constraint run_events_kind_check check (kind in
    ('created', 'start_reused', 'running', 'attempt_failed', 'cancel_requested', 'reconciled',
     'completed', 'late_completion'))`.execute(db);
  await db.schema
    .alterTable('operation_runs')
    .dropColumn('reviewed_at')
    .dropColumn('reviewed_by')
    .execute();
  await db.schema.dropTable('settings').execute();
  await db.schema.dropTable('api_tokens').execute();
  await db.schema.dropTable('sessions').execute();
}
