import { type Kysely, sql } from 'kysely';

// Run logs (DESIGN §18): the lines a handler writes with ctx.log, per run and attempt, in seq
// order. `run_logs` is one row per run that logged: the next seq and what the cap has counted so
// far (lines and bytes kept, lines dropped), locked by each batch so writers from two attempts
// never hand out the same seq. Both go with their run (retention prunes runs; lines cascade).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table run_logs (
    run_id uuid primary key references operation_runs(id) on delete cascade,
    last_seq integer not null default 0,
    lines integer not null default 0,
    bytes integer not null default 0,
    dropped bigint not null default 0,
    dropped_seq integer)`.execute(db);
  // The primary key is the read's index: one run's lines after a seq, in order.
  await sql`create table run_log_lines (
    run_id uuid not null references operation_runs(id) on delete cascade,
    seq integer not null,
    attempt integer not null,
    at timestamptz not null,
    level text not null check (level in ('debug', 'info', 'warn', 'error')),
    message text not null,
    fields jsonb,
    primary key (run_id, seq))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table run_log_lines`.execute(db);
  await sql`drop table run_logs`.execute(db);
}
