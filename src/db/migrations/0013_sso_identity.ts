import { type Kysely, sql } from 'kysely';

// Only the verified owner of an email holds a credential for it (DESIGN §10): a user signed in
// through SSO is linked to the provider's (issuer, subject), and a password records how it was set
// ('invite': whoever held the one-time link, maybe the inviter; 'admin': the operator, through the
// directory; 'self': changed by its linked owner), so an SSO sign-in can revoke one someone else
// may know. Passwords set before this migration count as 'invite' when an invite was redeemed for
// the user (the audit log says so), else as 'admin'.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users
    add column oidc_issuer text,
    add column oidc_subject text,
    add column password_origin text check (password_origin in ('invite', 'self', 'admin')),
    add constraint users_oidc_identity_whole check ((oidc_issuer is null) = (oidc_subject is null))`.execute(
    db,
  );
  await sql`create unique index users_oidc_identity_idx on users (oidc_issuer, oidc_subject)
    where oidc_subject is not null`.execute(db);
  await sql`update users u set password_origin = case when exists (
      select 1 from audit_log a
      where a.action = 'invite.redeem' and a.target_type = 'user' and a.target_id = u.id::text
    ) then 'invite' else 'admin' end
    where u.password_hash is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop column oidc_issuer, drop column oidc_subject,
    drop column password_origin`.execute(db);
}
