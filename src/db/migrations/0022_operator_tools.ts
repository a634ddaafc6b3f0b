import { type Kysely, sql } from 'kysely';

// Operator tools (DESIGN §18): tags given at start, the run a re-run repeats, and the indexes the
// list's search reads (a tag, a value in the input, a failure code), so a search never scans runs.
// `jsonb_path_ops` GIN indexes answer containment (`@>`) only, which is all the search asks, at a
// fraction of the default operator class's size and write cost.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table operation_runs
    add column tags text[] not null default '{}',
    add column rerun_of uuid references operation_runs(id) on delete set null`.execute(db);
  await sql`alter table operation_runs add constraint operation_runs_tags_check
    check (cardinality(tags) <= 10)`.execute(db);
  // The runs that re-run or retry a run (its page lists them; deleting a run nulls these links).
  await sql`create index operation_runs_rerun_of_idx on operation_runs (rerun_of)
    where rerun_of is not null`.execute(db);
  await sql`create index operation_runs_retry_of_idx on operation_runs (retry_of)
    where retry_of is not null`.execute(db);
  await sql`create index operation_runs_tags_idx on operation_runs using gin (tags)
    where tags <> '{}'`.execute(db);
  await sql`create index operation_runs_input_idx on operation_runs
    using gin (input jsonb_path_ops)`.execute(db);
  await sql`create index operation_runs_failures_idx on operation_runs
    using gin (failures jsonb_path_ops) where failures <> '[]'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index operation_runs_failures_idx`.execute(db);
  await sql`drop index operation_runs_input_idx`.execute(db);
  await sql`drop index operation_runs_retry_of_idx`.execute(db);
  await sql`alter table operation_runs drop column rerun_of, drop column tags`.execute(db);
}
