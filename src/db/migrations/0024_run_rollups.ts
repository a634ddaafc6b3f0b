import { type Kysely, sql } from 'kysely';

// Charts (DESIGN §18): runs finished per minute × workspace × tenant × type, by outcome (reconciled
// apart), with histograms of queue wait and duration, so a chart never reads `operation_runs`.
//
// A run that ends adds one row to `run_rollup_inbox` in its own transaction (a trigger: every path
// that ends a run is counted, set-based ones included). A fold (src/insights/rollups.ts) moves
// inbox rows into `run_rollups` in one statement — deleted from the one, added to the other — so
// nothing is counted twice or missed, and no two runs ending contend for one rollup row. Charts
// read both in one snapshot. Rows are kept for (tenant, type), (tenant, all types), (all tenants,
// type) and the workspace; in the last two a fleet's children are left out (the fleet is one row,
// its parent's, as in the list). Minutes older than 2 days become hours.
//
// Histogram bin k (1-based, of 48): ≤ 0.01 s for k = 1, else (0.01·1.5^(k-2), 0.01·1.5^(k-1)] s;
// the last bin also holds everything longer (src/domain/histogram.ts reads them).
const BINS = 48;
const ZEROS = `{${Array.from({ length: BINS }, () => '0').join(',')}}`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create function runwarden_bin(seconds float8) returns smallint
    language sql immutable parallel safe as $$
      select case when seconds is null then null
                  when seconds <= 0.01 then 1
                  else least(${sql.lit(BINS)}, 1 + ceil(ln(seconds / 0.01) / ln(1.5)))::smallint end
    $$`.execute(db);
  await sql`create function runwarden_hist_add(state int[], bin smallint) returns int[]
    language plpgsql immutable parallel safe as $$
    begin
      if bin is not null then state[bin] := state[bin] + 1; end if;
      return state;
    end $$`.execute(db);
  await sql`create aggregate runwarden_hist(smallint) (
    sfunc = runwarden_hist_add, stype = int[], initcond = ${sql.lit(ZEROS)})`.execute(db);
  await sql`create function runwarden_hist_sum(a int[], b int[]) returns int[]
    language sql immutable parallel safe as $$
      select array(select x + y from unnest(a, b) with ordinality as u(x, y, i) order by i)
    $$`.execute(db);
  await sql`create aggregate runwarden_hist_merge(int[]) (
    sfunc = runwarden_hist_sum, stype = int[], initcond = ${sql.lit(ZEROS)})`.execute(db);

  await sql`create table run_rollup_inbox (
    seq bigserial primary key,
    workspace_id uuid not null,
    tenant text not null,
    type text not null,
    child boolean not null,
    outcome text not null,
    reconciled boolean not null,
    completed_at timestamptz not null,
    wait_bin smallint,
    duration_bin smallint
  )`.execute(db);
  await sql`create index run_rollup_inbox_window_idx
    on run_rollup_inbox (workspace_id, completed_at)`.execute(db);
  await sql`create table run_rollups (
    workspace_id uuid not null references workspaces(id) on delete cascade,
    tenant text not null,
    type text not null,
    at timestamptz not null,
    minutes smallint not null check (minutes in (1, 60)),
    succeeded integer not null,
    partially_succeeded integer not null,
    failed integer not null,
    blocked integer not null,
    cancelled integer not null,
    reconciled integer not null,
    waits integer not null,
    wait_hist integer[] not null,
    durations integer not null,
    duration_hist integer[] not null,
    primary key (workspace_id, tenant, type, at, minutes)
  )`.execute(db);

  // '' is a workspace-level run's tenant; '*' (all) is never a tenant's key.
  await sql`create function runwarden_run_ended() returns trigger language plpgsql as $$
    begin
      insert into run_rollup_inbox (workspace_id, tenant, type, child, outcome, reconciled,
                                    completed_at, wait_bin, duration_bin)
      values (new.workspace_id, coalesce(new.tenant_id::text, ''), new.type,
              new.parent_id is not null, new.outcome, new.reconciliation is not null,
              new.completed_at,
              runwarden_bin(extract(epoch from new.started_at
                - greatest(new.created_at, coalesce(new.run_at, new.created_at)))),
              runwarden_bin(extract(epoch from new.completed_at - new.started_at)));
      return null;
    end $$`.execute(db);
  await sql`create trigger operation_runs_ended after update on operation_runs
    for each row when (old.status <> 'completed' and new.status = 'completed')
    execute function runwarden_run_ended()`.execute(db);
  await sql`create trigger operation_runs_inserted_ended after insert on operation_runs
    for each row when (new.status = 'completed')
    execute function runwarden_run_ended()`.execute(db);

  // The history before this migration, as the fold would have written it.
  await sql`insert into run_rollup_inbox (workspace_id, tenant, type, child, outcome, reconciled,
                                          completed_at, wait_bin, duration_bin)
    select workspace_id, coalesce(tenant_id::text, ''), type, parent_id is not null, outcome,
           reconciliation is not null, completed_at,
           runwarden_bin(extract(epoch from started_at
             - greatest(created_at, coalesce(run_at, created_at)))),
           runwarden_bin(extract(epoch from completed_at - started_at))
    from operation_runs where status = 'completed' and completed_at is not null
    order by completed_at`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger operation_runs_inserted_ended on operation_runs`.execute(db);
  await sql`drop trigger operation_runs_ended on operation_runs`.execute(db);
  await sql`drop function runwarden_run_ended()`.execute(db);
  await sql`drop table run_rollups`.execute(db);
  await sql`drop table run_rollup_inbox`.execute(db);
  await sql`drop aggregate runwarden_hist_merge(int[])`.execute(db);
  await sql`drop function runwarden_hist_sum(int[], int[])`.execute(db);
  await sql`drop aggregate runwarden_hist(smallint)`.execute(db);
  await sql`drop function runwarden_hist_add(int[], smallint)`.execute(db);
  await sql`drop function runwarden_bin(float8)`.execute(db);
}
