import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database, RunRow } from '../db/schema.js';

/** Where a transition that did not notify in its own statement announces its change. */
export interface RunChanges {
  changed(run: Pick<RunRow, 'id' | 'workspace_id' | 'tenant_id'>): void;
}

/** How long a change waits for others to share its NOTIFY transaction. */
const BATCH_MS = 10;
/** After a failed publish (the database away), the next try. */
const RETRY_MS = 1_000;

/**
 * Announces run changes on `runwarden_run_changes` in batches, the same payload the row trigger
 * sends (migration 0011). A notifying commit holds a database-wide lock through its WAL flush,
 * so the worker's hot path leaves NOTIFY out of its durable commits: its transitions hand their
 * rows here after they committed, and one statement per batch — on an asynchronous commit, so
 * the lock is released without waiting for the disk — notifies each run once, within about
 * BATCH_MS. Notices are hints that a run changed (stream clients then read it); a process that
 * dies in between loses at most the last batch's hints, never a run's state.
 */
export class RunChangePublisher implements RunChanges {
  readonly #db: Kysely<Database>;
  readonly #log: Pick<Logger, 'warn'>;
  #pending = new Map<string, { workspaceId: string; tenantId: string | null }>();
  #timer: NodeJS.Timeout | undefined;
  #publishing: Promise<void> | undefined;
  #failing = false;
  #closed = false;
  readonly #batchMs: number;

  constructor(db: Kysely<Database>, log: Pick<Logger, 'warn'>, options: { batchMs?: number } = {}) {
    this.#db = db;
    this.#log = log;
    this.#batchMs = options.batchMs ?? BATCH_MS;
  }

  changed(run: Pick<RunRow, 'id' | 'workspace_id' | 'tenant_id'>): void {
    this.#pending.set(run.id, { workspaceId: run.workspace_id, tenantId: run.tenant_id });
    // After close (a handler's write landing late): at once, on its own, best effort.
    if (this.#closed) void this.#publish().catch(() => undefined);
    else this.#schedule(this.#batchMs);
  }

  /** Publishes what is pending (once; a failure is dropped: the process is stopping). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#publishing;
    await this.#publish().catch(() => undefined);
  }

  #schedule(ms: number): void {
    if (this.#timer || this.#publishing || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#publishing = this.#publish()
        .then(
          () => {
            this.#failing = false;
          },
          (error: unknown) => {
            if (!this.#failing) this.#log.warn({ err: error }, 'could not announce run changes');
            this.#failing = true;
          },
        )
        .finally(() => {
          this.#publishing = undefined;
          if (this.#pending.size > 0) this.#schedule(this.#failing ? RETRY_MS : this.#batchMs);
        });
    }, ms);
  }

  async #publish(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    const changes = [...batch].map(([id, r]) => ({
      id,
      workspace_id: r.workspaceId,
      tenant_id: r.tenantId,
    }));
    try {
      await sql`
        with async_commit as (select set_config('synchronous_commit', 'off', true))
        select count(pg_notify('runwarden_run_changes', json_build_object(
            'seq', nextval('run_changes_seq'), 'id', c.id, 'workspaceId', c.workspace_id,
            'tenantId', c.tenant_id)::text))
        from async_commit, jsonb_to_recordset(${JSON.stringify(changes)}::jsonb)
          as c(id uuid, workspace_id uuid, tenant_id uuid)`.execute(this.#db);
    } catch (error) {
      // Not lost while the process lives: a newer change of the same run replaces it.
      for (const [id, r] of batch) if (!this.#pending.has(id)) this.#pending.set(id, r);
      throw error;
    }
  }
}
