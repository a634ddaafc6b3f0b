import { type Kysely, sql } from 'kysely';

// The list's search (DESIGN §18). A failure code pages like the list: a btree on the code of a run's
// latest failure, in the list's own order, replaces 0022's GIN index over every failure (which
// found the runs but in no order, so a common code fetched and sorted all of them).
//
// GIN indexes keep new entries in an unsorted pending list that every search reads through until
// (auto)vacuum merges it: after a burst of starts a rare tag's search spent 10 ms there (bench
// `api`). Tags (a partial index: only tagged runs pay) are merged on insert; the input index, which
// every start writes, keeps the list but at 256 kB, so what a search reads through stays small.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter index operation_runs_tags_idx set (fastupdate = off)`.execute(db);
  await sql`alter index operation_runs_input_idx set (gin_pending_list_limit = 256)`.execute(db);
  await sql`create index operation_runs_failure_code_idx on operation_runs
    (workspace_id, (failures -> -1 ->> 'code'), created_at desc, id desc)
    where failures <> '[]'`.execute(db);
  await sql`drop index operation_runs_failures_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter index operation_runs_input_idx reset (gin_pending_list_limit)`.execute(db);
  await sql`alter index operation_runs_tags_idx reset (fastupdate)`.execute(db);
  await sql`create index operation_runs_failures_idx on operation_runs
    using gin (failures jsonb_path_ops) where failures <> '[]'`.execute(db);
  await sql`drop index operation_runs_failure_code_idx`.execute(db);
}
