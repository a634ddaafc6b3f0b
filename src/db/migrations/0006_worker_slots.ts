import { type Kysely, sql } from 'kysely';

// A worker process that "looks alive" must be doing its work (DESIGN §16): its row records how
// many job slots it was started with and how many are live right now.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table workers add column concurrency integer not null default 0,
    add column live_slots integer not null default 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table workers drop column concurrency, drop column live_slots`.execute(db);
}
