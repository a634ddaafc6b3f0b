import { type Kysely, sql } from 'kysely';

// The list's failure-code search (DESIGN §18) pages like the list: a btree on the code of a run's
// latest failure, in the list's own order, replaces 0022's GIN index over every failure (which
// found the runs but in no order, so a common code fetched and sorted all of them).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index operation_runs_failure_code_idx on operation_runs
    (workspace_id, (failures -> -1 ->> 'code'), created_at desc, id desc)
    where failures <> '[]'`.execute(db);
  await sql`drop index operation_runs_failures_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index operation_runs_failures_idx on operation_runs
    using gin (failures jsonb_path_ops) where failures <> '[]'`.execute(db);
  await sql`drop index operation_runs_failure_code_idx`.execute(db);
}
