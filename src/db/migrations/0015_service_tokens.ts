import { type Kysely, sql } from 'kysely';

// Service tokens (DESIGN §10): a token that acts for its workspace, not a person, has no creator,
// so it outlives anyone leaving. A run such a token starts names it as its initiator instead of a
// person; the gate reads the token to block the run once the token is revoked.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table api_tokens alter column created_by drop not null`.execute(db);
  await sql`alter table api_tokens add column kind text not null default 'person'`.execute(db);
  await sql`alter table api_tokens add constraint api_tokens_kind_check
    check (kind = 'person' and created_by is not null or kind = 'service' and created_by is null)`.execute(
    db,
  );
  await sql`alter table operation_runs add column initiator_token_id uuid
    references api_tokens (id) on delete set null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table operation_runs drop column initiator_token_id`.execute(db);
  await sql`delete from api_tokens where kind = 'service'`.execute(db);
  await sql`alter table api_tokens drop constraint api_tokens_kind_check`.execute(db);
  await sql`alter table api_tokens drop column kind`.execute(db);
  await sql`alter table api_tokens alter column created_by set not null`.execute(db);
}
