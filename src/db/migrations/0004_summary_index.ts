import { type Kysely, sql } from 'kysely';

// Dashboard summaries count a week of terminal runs per request. With `reconciled` as a stored
// column, the completed-runs index can carry everything those counts read (outcome, reconciled,
// tenant), so they are index-only scans instead of a heap visit per run.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table operation_runs
    add column reconciled boolean generated always as (reconciliation is not null) stored`.execute(
    db,
  );
  await sql`create index operation_runs_completed_cover_idx on operation_runs (workspace_id, completed_at)
    include (outcome, reconciled, tenant_id) where status = 'completed'`.execute(db);
  await sql`drop index if exists operation_runs_completed_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index operation_runs_completed_idx on operation_runs (workspace_id, completed_at)
    where status = 'completed'`.execute(db);
  await sql`drop index if exists operation_runs_completed_cover_idx`.execute(db);
  await sql`alter table operation_runs drop column reconciled`.execute(db);
}
