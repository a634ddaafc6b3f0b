import { type Kysely, sql } from 'kysely';

// A password chosen through a workspace owner's offer link (DESIGN §10) gets its own origin,
// 'offer': whoever held the link chose it, maybe the owner who made the offer, and nobody vouched
// for the email. Such an account is trusted only for the offer it was created with: it accepts no
// other offer, and the host's directory writing it a membership revokes the password. Accounts
// made that way before this migration recorded 'invite' without ever redeeming a set-password
// invite (the audit log has no `invite.redeem` for them): they become 'offer'.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop constraint users_password_origin_check,
    add constraint users_password_origin_check
      check (password_origin in ('invite', 'self', 'admin', 'offer'))`.execute(db);
  await sql`update users u set password_origin = 'offer'
    where u.password_origin = 'invite' and not exists (
      select 1 from audit_log a
      where a.action = 'invite.redeem' and a.target_type = 'user' and a.target_id = u.id::text
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`update users set password_origin = 'invite' where password_origin = 'offer'`.execute(
    db,
  );
  await sql`alter table users drop constraint users_password_origin_check,
    add constraint users_password_origin_check
      check (password_origin in ('invite', 'self', 'admin'))`.execute(db);
}
