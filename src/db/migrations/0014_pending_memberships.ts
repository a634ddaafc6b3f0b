import { type Kysely, sql } from 'kysely';

// Tenancy is a boundary (DESIGN §10): a workspace owner adding someone by email makes a pending
// membership, not a membership. It grants nothing (every reader of `memberships` ignores it by
// construction) until the person accepts through its one-time link (stored only as its sha256):
// signed in as that email, or, when no account has the email, by setting a password.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('pending_memberships')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) =>
      c.notNull().references('workspaces.id').onDelete('cascade'),
    )
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('tenant_ids', sql`uuid[]`)
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('pending_memberships_workspace_email_key', ['workspace_id', 'email'])
    .addCheckConstraint(
      'pending_memberships_role_check',
      sql`role in ('owner', 'manager', 'operator', 'readonly')`,
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pending_memberships').execute();
}
