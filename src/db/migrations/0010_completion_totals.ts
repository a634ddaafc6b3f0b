import { type Kysely, sql } from 'kysely';

// `/metrics` counts run completions as monotonic counters read from the database (every API
// process reports the same fleet-wide numbers). Live rows are counted as they are; when retention
// deletes terminal runs, it adds them here in the same statement, so a counter never goes down.
// `buckets[i]` counts timed runs whose duration was ≤ RUN_DURATION_BUCKETS[i] seconds.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table run_completion_totals (
    type text not null,
    outcome text not null,
    reconciled boolean not null,
    runs bigint not null,
    timed_runs bigint not null,
    duration_seconds double precision not null,
    buckets bigint[] not null,
    primary key (type, outcome, reconciled)
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table run_completion_totals`.execute(db);
}
