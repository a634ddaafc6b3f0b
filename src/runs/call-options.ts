import type { RawBuilder, Transaction } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import type { RunChanges } from './run-change-publisher.js';

// The options and answers of RunService's writes.

export interface StartRun {
  workspaceId: string;
  tenantId: string | null;
  type: string;
  /** The type's identity inputs: what makes two starts "the same". */
  identity: unknown;
  input: Record<string, unknown>;
  initiatorUserId: string | null;
  /** A service token that started it (DESIGN §10): it acts for the workspace, not a person. */
  initiatorTokenId?: string | null;
  context?: Record<string, unknown>;
  retryOf?: string | null;
  /** The run this one runs again (DESIGN §18). */
  rerunOf?: string | null;
  /** Given at start, for search (DESIGN §18). */
  tags?: readonly string[];
  /** Waits for admission (flow control, DESIGN §17) instead of getting a queue job at once. */
  held?: boolean;
  /** -1 high, 0 normal (default), 1 low. */
  priority?: number;
  /** Not before this instant. */
  runAt?: Date | null;
  /** Cancelled with `run.expired` if still queued then. */
  expiresAt?: Date | null;
  /** The fleet starting it (DESIGN §19): its end moves that parent. */
  parentId?: string | null;
  /** A fleet's parent over this many children: its status and counts follow theirs. */
  fleetOf?: number;
}

/** Why a transition did not happen. `already_terminal` is the no-op of repeating a transition. */
export type NotMovedReason = 'already_terminal' | 'not_found' | 'wrong_state';

/** A compare-and-set result: either we moved the run, or here is how it stands now. */
export type Transition =
  | { moved: true; run: RunRow }
  | { moved: false; reason: NotMovedReason; run: RunRow | undefined };

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

export interface CompleteOptions extends Shareable {
  /**
   * The handler's last progress report that is not written yet (the worker coalesces reports):
   * written by the completion's own statement, so no progress write can land after it.
   */
  progress?: { processed: number; total?: number | null };
  /**
   * Written in the completion's own statement when the run moves (may refer to the moved runs as
   * `moved`, and to `jobId` as `moved.finished_job_id`): the queue's job completion, so a run's
   * end and its job's end are one commit.
   */
  sameCommit?: RawBuilder<unknown>;
  /** The queue's job this attempt ran as, for `sameCommit`. */
  jobId?: string;
  /**
   * The worker and attempt completing the run (with `jobId`): written in the `completed` event, so
   * a retry of this completion whose answer was lost finds it and answers as its own write.
   */
  by?: CompletedBy;
}

/** Who completes a run: a worker's attempt (and `jobId`, the queue's job it ran as). */
export interface CompletedBy {
  workerId: string;
  attempt: number;
}

/** What the `completed` event records of its completer: a worker's attempt of a job. */
export type Completer = CompletedBy & { jobId: string };

/** The completer to record, only when the completion names both its attempt and its job. */
export function completer(
  by: CompletedBy | undefined,
  jobId: string | null | undefined,
): Completer | undefined {
  return by && jobId ? { workerId: by.workerId, attempt: by.attempt, jobId } : undefined;
}

/**
 * `shared`, with `changes` and no `trx`: the write may share its statement with the writes of its
 * kind that arrive while one is being written (SharedStatements); its answer is the one its own
 * statement would have given.
 */
export interface Shareable extends DeferredOptions {
  shared?: boolean;
}
