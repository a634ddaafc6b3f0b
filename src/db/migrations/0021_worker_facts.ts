import { type Kysely, sql } from 'kysely';

// The workers page (DESIGN §18) says which release a process runs and which operation types it
// serves: written once by the process at registration. Null / empty for rows written before.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table workers add column version text,
    add column types text[] not null default '{}'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table workers drop column version, drop column types`.execute(db);
}
