import { type Kysely, sql } from 'kysely';

// Released migrations are append-only: never edit this file, add the next one.
// Migrations see the database as it was then, not today's `Database` type.
type AnyDb = Kysely<unknown>;

const now = sql`now()`;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) =>
      c.notNull().references('workspaces.id').onDelete('cascade'),
    )
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addUniqueConstraint('tenants_workspace_slug_key', ['workspace_id', 'slug'])
    .addCheckConstraint('tenants_status_check', sql`status in ('active', 'inactive')`)
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('platform_capabilities', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await sql`create unique index users_email_key on users (lower(email))`.execute(db);

  await db.schema
    .createTable('memberships')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) =>
      c.notNull().references('workspaces.id').onDelete('cascade'),
    )
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('tenant_ids', sql`uuid[]`)
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addUniqueConstraint('memberships_workspace_user_key', ['workspace_id', 'user_id'])
    .addCheckConstraint(
      'memberships_role_check',
      sql`role in ('owner', 'manager', 'operator', 'readonly')`,
    )
    .execute();
  await db.schema.createIndex('memberships_user_idx').on('memberships').column('user_id').execute();

  // The database's own check on counts: the service validates input first, this catches what a
  // merge produces (too many keys, a sum past 2^53) so a bad row can never be committed. Written
  // inline rather than as a function: a CHECK is stored parsed, a SQL function is re-inlined
  // (parsed and planned) on every statement, which measured ~300 µs per write here.
  const countsCheck = sql`jsonb_typeof(summary_counts) = 'object'
    and jsonb_array_length(jsonb_path_query_array(summary_counts, '$.keyvalue()')) <= 64
    and not jsonb_path_exists(summary_counts,
      '$.keyvalue() ? (!(@.key like_regex "^[a-z][a-z0-9_]{0,63}$")
                       || @.value.type() != "number" || @.value < 0
                       || @.value > 9007199254740991 || @.value.floor() != @.value)')`;

  await db.schema
    .createTable('operation_runs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workspace_id', 'uuid', (c) =>
      c.notNull().references('workspaces.id').onDelete('cascade'),
    )
    .addColumn('tenant_id', 'uuid', (c) => c.references('tenants.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued'))
    .addColumn('outcome', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('identity_hash', 'text', (c) => c.notNull())
    .addColumn('input', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('initiator_user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('summary_counts', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('progress_processed', 'integer')
    .addColumn('progress_total', 'integer')
    .addColumn('failures', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'`))
    .addColumn('context', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('worker_id', 'text')
    .addColumn('queue_job_id', 'bigint')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('last_heartbeat_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('reconciliation', 'jsonb')
    .addColumn('cancel_requested_at', 'timestamptz')
    .addColumn('retry_of', 'uuid', (c) => c.references('operation_runs.id').onDelete('set null'))
    .addCheckConstraint(
      'operation_runs_status_check',
      sql`status in ('queued', 'running', 'completed')`,
    )
    .addCheckConstraint(
      'operation_runs_outcome_check',
      sql`outcome in ('pending', 'succeeded', 'partially_succeeded', 'failed', 'blocked', 'cancelled')`,
    )
    // completed ⇔ a real outcome: no terminal run without one, no outcome on an active run
    .addCheckConstraint(
      'operation_runs_outcome_matches_status',
      sql`(status = 'completed') = (outcome <> 'pending')`,
    )
    .addCheckConstraint('operation_runs_counts_check', countsCheck)
    .addCheckConstraint('operation_runs_failures_check', sql`jsonb_typeof(failures) = 'array'`)
    .addCheckConstraint(
      'operation_runs_progress_check',
      sql`(progress_processed is null or progress_processed >= 0) and (progress_total is null or progress_total >= 0)`,
    )
    .execute();

  // Dedupe: at most one active run per identity. The start path's insert races on this index.
  await sql`
    create unique index operation_runs_active_identity_key on operation_runs
      (workspace_id, coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), type, identity_hash)
      where status in ('queued', 'running')`.execute(db);
  // Keyset list: newest first within a workspace.
  await sql`create index operation_runs_list_idx on operation_runs (workspace_id, created_at desc, id desc)`.execute(
    db,
  );
  // The reconciler's scan: its cost follows the active set, not history.
  await sql`
    create index operation_runs_active_idx on operation_runs (status, type, created_at)
      where status in ('queued', 'running')`.execute(db);

  await db.schema
    .createTable('run_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('run_id', 'uuid', (c) =>
      c.notNull().references('operation_runs.id').onDelete('cascade'),
    )
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'`))
    .addCheckConstraint(
      'run_events_kind_check',
      sql`kind in ('created', 'start_reused', 'running', 'attempt_failed', 'cancel_requested', 'reconciled', 'completed', 'late_completion')`,
    )
    .execute();
  await db.schema
    .createIndex('run_events_run_idx')
    .on('run_events')
    .columns(['run_id', 'id'])
    .execute();

  await db.schema
    .createTable('workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('queue_worker_ids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('stopped_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('run_id', 'uuid', (c) =>
      c.notNull().references('operation_runs.id').onDelete('cascade'),
    )
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('link', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('read_at', 'timestamptz')
    .execute();
  await sql`create index notifications_user_idx on notifications (user_id, created_at desc)`.execute(
    db,
  );
  await db.schema
    .createIndex('notifications_run_idx')
    .on('notifications')
    .column('run_id')
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor_user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('workspace_id', 'uuid', (c) => c.references('workspaces.id').onDelete('set null'))
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'`))
    .execute();
  await sql`create index audit_log_at_idx on audit_log (at desc)`.execute(db);
  await sql`create index audit_log_workspace_idx on audit_log (workspace_id, at desc)`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of ['audit_log', 'notifications', 'workers', 'run_events', 'operation_runs']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  for (const table of ['memberships', 'users', 'tenants', 'workspaces']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
