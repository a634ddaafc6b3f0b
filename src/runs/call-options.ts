import type { RawBuilder, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { RunChanges } from './run-change-publisher.js';

// The options of RunService's writes.

export interface CallOptions {
  /** Run inside the caller's transaction (e.g. the start path enqueues its job in it). */
  trx?: Transaction<Database>;
}

export interface DeferredOptions extends CallOptions {
  /**
   * Announce the change here after the statement committed instead of a NOTIFY in it (a worker's
   * hot path: a notifying commit serializes on a database-wide lock). Ignored with `trx`.
   */
  changes?: RunChanges;
}

export interface CompleteOptions extends DeferredOptions {
  /**
   * The handler's last progress report that is not written yet (the worker coalesces reports):
   * written by the completion's own statement, so no progress write can land after it.
   */
  progress?: { processed: number; total?: number | null };
  /**
   * Written in the completion's own statement when the run moves (may refer to it as `moved`):
   * the queue's job completion, so a run's end and its job's end are one commit.
   */
  sameCommit?: RawBuilder<unknown>;
}
