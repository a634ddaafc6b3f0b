import { type Kysely, sql } from 'kysely';

// Terminal runs by workspace and completion time: summaries ("failed in the last 7 days") and
// retention (pruned workspace by workspace) read it; active runs never enter it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index operation_runs_completed_idx on operation_runs (workspace_id, completed_at)
    where status = 'completed'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists operation_runs_completed_idx`.execute(db);
}
