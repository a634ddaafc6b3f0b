import { type Kysely, sql } from 'kysely';

// Alerts (DESIGN §18): rules per workspace, and each alert's delivery to its destination.
//
// A run that ends failed, blocked or reconciled in a workspace with an enabled rule leaves an
// `alert_events` row and asks the queue to evaluate that workspace's rules a few seconds later
// (one job per workspace: a burst of endings is one evaluation). Both happen in the run's own
// transaction (a trigger), so an ending is never missed and never evaluated before it commits.
// The evaluation takes the events out in one statement with what it decides (src/alerts/).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table alert_rules (
    id uuid primary key,
    workspace_id uuid not null references workspaces(id) on delete cascade,
    name text not null,
    condition jsonb not null,
    destination jsonb not null,
    -- The webhook's signing secret, or the Slack URL's own: never returned after creation.
    secret text,
    throttle_minutes integer not null default 10 check (throttle_minutes between 1 and 1440),
    enabled boolean not null default true,
    created_by uuid references users(id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- What the rule has seen and not yet sent (held back by its throttle), and when it last sent.
    pending_count integer not null default 0,
    pending_runs uuid[] not null default '{}',
    last_alert_at timestamptz
  )`.execute(db);
  await sql`create index alert_rules_workspace_idx on alert_rules (workspace_id) where enabled`.execute(
    db,
  );
  await sql`create table alert_events (
    seq bigserial primary key,
    workspace_id uuid not null,
    run_id uuid not null,
    type text not null,
    tenant_id uuid,
    outcome text not null,
    reconciled boolean not null,
    completed_at timestamptz not null
  )`.execute(db);
  await sql`create index alert_events_workspace_idx on alert_events (workspace_id, seq)`.execute(
    db,
  );
  await sql`create table alert_deliveries (
    id uuid primary key,
    rule_id uuid not null references alert_rules(id) on delete cascade,
    workspace_id uuid not null references workspaces(id) on delete cascade,
    created_at timestamptz not null default now(),
    status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    last_error text,
    last_attempt_at timestamptz,
    delivered_at timestamptz,
    test boolean not null default false,
    count integer not null,
    payload jsonb not null
  )`.execute(db);
  await sql`create index alert_deliveries_rule_idx on alert_deliveries (rule_id, created_at desc)`.execute(
    db,
  );

  await sql`create function runwarden_alert_event() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from alert_rules where workspace_id = new.workspace_id and enabled) then
        insert into alert_events (workspace_id, run_id, type, tenant_id, outcome, reconciled,
                                  completed_at)
        values (new.workspace_id, new.id, new.type, new.tenant_id, new.outcome,
                new.reconciliation is not null, new.completed_at);
        perform graphile_worker.add_job(
          identifier => 'runwarden:alerts.evaluate',
          payload => json_build_object('workspaceId', new.workspace_id),
          run_at => now() + interval '3 seconds',
          max_attempts => 25,
          job_key => 'runwarden:alerts:' || new.workspace_id,
          job_key_mode => 'preserve_run_at');
      end if;
      return null;
    end $$`.execute(db);
  await sql`create trigger operation_runs_alert after update on operation_runs
    for each row when (old.status <> 'completed' and new.status = 'completed'
      and (new.outcome in ('failed', 'blocked') or new.reconciliation is not null))
    execute function runwarden_alert_event()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger operation_runs_alert on operation_runs`.execute(db);
  await sql`drop function runwarden_alert_event()`.execute(db);
  await sql`drop table alert_deliveries`.execute(db);
  await sql`drop table alert_events`.execute(db);
  await sql`drop table alert_rules`.execute(db);
}
