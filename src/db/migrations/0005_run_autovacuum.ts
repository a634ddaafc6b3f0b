import { type Kysely, sql } from 'kysely';

// Runs are updated when they finish, so last week's pages are the ones autovacuum has not marked
// all-visible yet, and the summary's index-only count falls back to a full scan. Vacuum and
// analyze operation_runs after 1% of it changes (the default waits for 20%).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table operation_runs set (autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table operation_runs reset (autovacuum_vacuum_scale_factor,
    autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor)`.execute(db);
}
