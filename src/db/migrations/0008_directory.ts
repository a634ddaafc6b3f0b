import { type Kysely, sql } from 'kysely';

// The directory belongs to the host platform (DESIGN §10): users carry the host's own key
// (`external_id`, optional) and can be disabled without losing their history; an invite is a
// one-time set-password token, stored only as its sha256, valid until `expires_at`.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('external_id', 'text')
    .addColumn('disabled_at', 'timestamptz')
    .execute();
  await sql`create unique index users_external_id_key on users (external_id) where external_id is not null`.execute(
    db,
  );
  await db.schema
    .createTable('invites')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('invites_user_idx').on('invites').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('invites').execute();
  await sql`drop index if exists users_external_id_key`.execute(db);
  await db.schema.alterTable('users').dropColumn('external_id').dropColumn('disabled_at').execute();
}
