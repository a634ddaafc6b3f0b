import { type Kysely, sql } from 'kysely';

// A NOTIFY in a transaction takes a database-wide lock at commit and holds it through the commit's
// WAL flush, so every notifying commit waits for the one before it, and every LISTENing backend
// wakes for it: two per run (running, completed) capped a worker at a fraction of the queue's rate
// (issue #15). A worker's hot-path transitions now set `runwarden.notify = deferred` for their own
// statement and announce their changes afterwards, many runs per NOTIFY transaction (see
// src/runs/run-change-publisher.ts). Every other write notifies as before.
const NOTIFY = `perform pg_notify('runwarden_run_changes', json_build_object(
        'seq', nextval('run_changes_seq'), 'id', NEW.id, 'workspaceId', NEW.workspace_id,
        'tenantId', NEW.tenant_id)::text);`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`create or replace function runwarden_notify_run_change() returns trigger language plpgsql as $$
    begin
      if current_setting('runwarden.notify', true) = 'deferred' then
        return null;
      end if;
      ${NOTIFY}
      return null;
    end $$`)
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`create or replace function runwarden_notify_run_change() returns trigger language plpgsql as $$
    begin
      ${NOTIFY}
      return null;
    end $$`)
    .execute(db);
}
