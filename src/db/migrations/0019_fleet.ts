import { type Kysely, sql } from 'kysely';

// Fleet operations (DESIGN §19): one parent run (workspace-scoped, `fleet`) over one child run per
// tenant. A child the fleet started carries `parent_id`; a tenant whose identical run was already
// active joins with that run instead (reused), so a run may belong to fleets it was not started
// by: `fleet_children` links every child (started or joined) to its parent, and `in_fleet` on the
// child is the cheap check the completion paths read (no lookup for a run in no fleet).
// `fleet_children.outcome` is the child's outcome once the parent counted it: counting is
// idempotent, and the children a lost completion left uncounted are found by an index.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table operation_runs
    add column fleet boolean not null default false,
    add column in_fleet boolean not null default false,
    add column parent_id uuid references operation_runs(id) on delete set null`.execute(db);
  await sql`create index operation_runs_parent_idx on operation_runs (parent_id)
    where parent_id is not null`.execute(db);
  // The active parents (the reconciler's safety net reads only these).
  await sql`create index operation_runs_active_fleet_idx on operation_runs (id)
    where fleet and status in ('queued', 'running')`.execute(db);
  await sql`create table fleet_children (
    parent_id uuid not null references operation_runs(id) on delete cascade,
    run_id uuid not null references operation_runs(id) on delete cascade,
    tenant_id uuid not null,
    reused boolean not null,
    outcome text,
    primary key (parent_id, run_id))`.execute(db);
  await sql`create index fleet_children_run_idx on fleet_children (run_id)`.execute(db);
  await sql`create index fleet_children_uncounted_idx on fleet_children (run_id)
    where outcome is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table fleet_children`.execute(db);
  await sql`alter table operation_runs drop column parent_id, drop column in_fleet,
    drop column fleet`.execute(db);
}
