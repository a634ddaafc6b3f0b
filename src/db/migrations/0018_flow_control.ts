import { type Kysely, sql } from 'kysely';

// Flow control (DESIGN §17). A run of a type with `flow`, or one that must wait for its `runAt`,
// starts `held`: queued with no queue job. The admitter (src/flow) gives it a job when every limit
// it draws from has room, in priority → fair share → FIFO order, and records when it became
// eligible: the queued-stale window counts from then, so a held run is never judged stale.
//
// - `flow_lanes`: the (type, tenant key, priority) lanes that may hold runs; the admitter visits
//   only these, so an admission never scans the waiting runs themselves. `verdict` is why the lane
//   waited at the last admission (the waiting copy reads it).
// - `flow_shares`: each tenant key's virtual time (weighted fair share); `flow_clock` the system's.
// - `flow_pauses`: per type, tenant, or type × tenant in a workspace.
// - `flow_limit_overrides`: platform staff's runtime limits for a type or a pool.
export async function up(db: Kysely<unknown>): Promise<void> {
  // `admitted`: flow control gave a held run its job; `held`: a run went back to waiting (a pause
  // its worker found at the gate).
  await sql`alter table run_events drop constraint run_events_kind_check`.execute(db);
  await sql`alter table run_events add constraint run_events_kind_check check (kind in
    ('created', 'start_reused', 'running', 'attempt_failed', 'handed_back', 'cancel_requested',
     'reconciled', 'completed', 'late_completion', 'handler_returned', 'reviewed', 'admitted',
     'held'))`.execute(db);
  await sql`alter table operation_runs
    add column held boolean not null default false,
    add column eligible_at timestamptz,
    add column priority smallint not null default 0,
    add column run_at timestamptz,
    add column expires_at timestamptz,
    add constraint operation_runs_priority_check check (priority between -1 and 1)`.execute(db);
  await sql`alter table tenants add column weight integer not null default 1
    constraint tenants_weight_check check (weight between 1 and 1000)`.execute(db);

  // A lane's head: its oldest eligible held run (FIFO by when it may start).
  await sql`create index operation_runs_held_idx on operation_runs
    (type, (coalesce(tenant_id, workspace_id)), priority, (coalesce(run_at, created_at)), id)
    where held and status = 'queued'`.execute(db);
  // The next `runAt` to wake for.
  await sql`create index operation_runs_held_run_at_idx on operation_runs (run_at)
    where held and status = 'queued' and run_at is not null`.execute(db);
  // Starts per window and runs admitted, per type and tenant key: only admitted runs are here.
  await sql`create index operation_runs_flow_started_idx on operation_runs
    (type, (coalesce(tenant_id, workspace_id)), started_at) where eligible_at is not null`.execute(
    db,
  );
  await sql`create index operation_runs_admitted_idx on operation_runs
    (type, (coalesce(tenant_id, workspace_id)))
    where eligible_at is not null and status in ('queued', 'running') and not held`.execute(db);
  // The reconciler's scan without the held runs (never stale): its cost follows the runs that could
  // be, however long the backlog waiting for admission.
  await sql`create index operation_runs_unheld_active_idx on operation_runs (status, type, created_at)
    where status in ('queued', 'running') and not held`.execute(db);
  await sql`create index operation_runs_expires_idx on operation_runs (expires_at)
    where expires_at is not null and status = 'queued'`.execute(db);

  await sql`create table flow_lanes (
    type text not null,
    tenant_key uuid not null,
    priority smallint not null,
    workspace_id uuid not null references workspaces(id) on delete cascade,
    active boolean not null default true,
    verdict jsonb,
    verdict_at timestamptz,
    primary key (type, tenant_key, priority))`.execute(db);
  await sql`create index flow_lanes_active_idx on flow_lanes (priority) where active`.execute(db);
  await sql`create table flow_shares (
    tenant_key uuid primary key,
    vtime double precision not null default 0)`.execute(db);
  await sql`create table flow_clock (
    id boolean primary key default true check (id),
    vtime double precision not null default 0)`.execute(db);
  await sql`insert into flow_clock default values`.execute(db);
  await sql`create table flow_pauses (
    id uuid primary key,
    workspace_id uuid not null references workspaces(id) on delete cascade,
    type text,
    tenant_id uuid references tenants(id) on delete cascade,
    created_by uuid references users(id) on delete set null,
    created_at timestamptz not null default now())`.execute(db);
  await sql`create unique index flow_pauses_scope_key on flow_pauses
    (workspace_id, coalesce(type, ''), coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid))`.execute(
    db,
  );
  await sql`create table flow_limit_overrides (
    name text primary key,
    limits jsonb not null,
    updated_by uuid references users(id) on delete set null,
    updated_at timestamptz not null default now())`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from run_events where kind in ('admitted', 'held')`.execute(db);
  await sql`alter table run_events drop constraint run_events_kind_check`.execute(db);
  await sql`alter table run_events add constraint run_events_kind_check check (kind in
    ('created', 'start_reused', 'running', 'attempt_failed', 'handed_back', 'cancel_requested',
     'reconciled', 'completed', 'late_completion', 'handler_returned', 'reviewed'))`.execute(db);
  await sql`drop table flow_limit_overrides, flow_pauses, flow_clock, flow_shares, flow_lanes`.execute(
    db,
  );
  await sql`alter table tenants drop column weight`.execute(db);
  await sql`alter table operation_runs drop column held, drop column eligible_at,
    drop column priority, drop column run_at, drop column expires_at`.execute(db);
}
