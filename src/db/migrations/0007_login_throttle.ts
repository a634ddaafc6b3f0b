import { type Kysely, sql } from 'kysely';

// Login attempts counted in PostgreSQL, so every API process shares one limit per client address
// and per account (DESIGN §16). One row per counter: `key` is a sha256 of the rule and its subject
// (never the address or the typed email itself); the window ends at `expires_at`, after which the
// next attempt starts a new one and the pruner may delete the row.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('login_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index login_throttle_expires_idx on login_throttle (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('login_throttle').execute();
}
