import { type Kysely, sql } from 'kysely';

// A worker is judged dead by its own beat interval (DESIGN §16), not by the shortest heartbeat of
// every type the reconciler knows (external types included): the row says how often it beats.
// Null for workers started before this column (they are judged as before).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table workers add column heartbeat_ms integer`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table workers drop column heartbeat_ms`.execute(db);
}
