import type { Kysely, RawBuilder } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import { validateCounts } from '../domain/counts.js';
import { RunwardenError } from '../domain/errors.js';
import { type Clock, systemClock } from '../domain/run.js';
import { sanitizeFailure } from '../domain/sanitize.js';
import { cancelQueuedRuns, flagRunningRuns } from './bulk-writes.js';
import type {
  CallOptions,
  CompleteOptions,
  DeferredOptions,
  Shareable,
  StartRun,
  Transition,
} from './call-options.js';
import { completer } from './call-options.js';
import {
  type CompleteRun,
  cancelBeforeStart,
  cancelRequested,
  checkedResult,
  expiredBeforeStart,
  type ForceFail,
  handlerCompletion,
  reconciledFailure,
} from './completions.js';
import {
  completeDoneParents,
  countEndedChildren,
  countedActiveParents,
  flagFleetCancel,
  linkChildren,
  markParentsRunning,
  uncountedEndedChildren,
} from './fleet-writes.js';
import { identityKey, newRunRow, startPayload } from './new-run.js';
import { writeProgress } from './progress-writes.js';
import { validateProgress, withCountsCheck } from './run-checks.js';
import * as q from './run-queries.js';
import { SharedWrites, sharing, startedBy } from './shared-writes.js';

export type {
  CallOptions,
  CompletedBy,
  CompleteOptions,
  DeferredOptions,
  NotMovedReason,
  StartRun,
  Transition,
} from './call-options.js';

/** Why a running run went back to the queue without a failed attempt. */
export type HandBackReason = 'worker_shutdown';
const HAND_BACK_COPY: Record<HandBackReason, string> = {
  worker_shutdown:
    'Its worker shut down before the handler finished; the run went back to the queue for another worker (no retry used).',
};

export type { CompleteRun, ForceFail } from './completions.js';

/** Runs inserted per statement by `createOrReuseMany` (PostgreSQL takes ≤ 65,535 parameters). */
const CREATE_CHUNK = 500;

/** A transition after which a fleet's child moves its parents (`#childMoved`). */
const FOLLOW = true;

export interface RunServiceDeps {
  db: Kysely<Database>;
  clock?: Clock;
}

/**
 * The only writer of run state (DESIGN §3). Every transition is a compare-and-set update that
 * writes its `run_events` row in the same transaction; a terminal run is never changed again.
 */
export class RunService {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  /** A worker's starts, progress reports and completions, sharing statements under load. */
  readonly #shared: SharedWrites;

  constructor(deps: RunServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock ?? systemClock;
    this.#shared = new SharedWrites(deps.db, this.#clock);
  }

  /** Creates a queued run, or returns the active run with the same identity (`reused: true`). */
  async createOrReuse(
    start: StartRun,
    options: CallOptions = {},
  ): Promise<{ run: RunRow; reused: boolean }> {
    const now = this.#clock();
    const db = options.trx ?? this.#db;
    const key = identityKey(start);
    const payload = startPayload(start);
    // Bounded: each loop means the active run we collided with finished in between.
    for (let attempt = 0; attempt < 5; attempt++) {
      const created = await q.insertRunUnlessActive(db, newRunRow(start, now), {
        kind: 'created',
        payload,
      });
      if (created) return { run: created, reused: false };
      const active = await q.reuseActiveByIdentity(db, key, now, { kind: 'start_reused', payload });
      if (active) return { run: active, reused: true };
    }
    throw new RunwardenError(
      'conflict',
      `could not start ${start.type}: its active run kept changing, try again`,
    );
  }

  /**
   * `createOrReuse` for many starts of one initiator in one workspace (a fleet's children,
   * DESIGN §19): a statement per chunk of runs instead of two per run. In the starts' order.
   */
  async createOrReuseMany(
    starts: readonly StartRun[],
    options: CallOptions = {},
  ): Promise<Array<{ run: RunRow; reused: boolean }>> {
    const [first] = starts;
    if (!first) return [];
    const now = this.#clock();
    const db = options.trx ?? this.#db;
    const payload = startPayload(first);
    const rows = starts.map((start) => {
      if (
        start.workspaceId !== first.workspaceId ||
        start.initiatorUserId !== first.initiatorUserId
      )
        throw new Error('createOrReuseMany takes the starts of one initiator in one workspace');
      return newRunRow(start, now);
    });
    const byHash = new Map<string, { run: RunRow; reused: boolean }>();
    // Bounded: each loop means an active run we collided with finished in between.
    for (let attempt = 0; attempt < 5; attempt++) {
      const todo = rows.filter((row) => !byHash.has(row.identity_hash));
      for (let i = 0; i < todo.length; i += CREATE_CHUNK) {
        const chunk = todo.slice(i, i + CREATE_CHUNK);
        const created = await q.insertRunsUnlessActive(db, chunk, now, {
          kind: 'created',
          payload,
        });
        for (const run of created) byHash.set(run.identity_hash, { run, reused: false });
        const missing = chunk.map((r) => r.identity_hash).filter((hash) => !byHash.has(hash));
        if (missing.length === 0) continue;
        const event = { kind: 'start_reused', payload } as const;
        const active = await q.reuseActiveByHashes(db, first.workspaceId, missing, now, event);
        for (const run of active) byHash.set(run.identity_hash, { run, reused: true });
      }
    }
    return rows.map((row) => {
      const started = byHash.get(row.identity_hash);
      if (started) return started;
      throw new RunwardenError(
        'conflict',
        `could not start ${row.type}: its active run kept changing, try again`,
      );
    });
  }

  /**
   * A bulk cancel of many runs in the caller's transaction (DESIGN §18): queued ones cancelled at
   * once, running ones asked to stop, each only if it still is; their fleets follow. No notices:
   * the bulk action's own run tells its initiator.
   */
  async cancelMany(
    ids: readonly string[],
    by: { userId: string | null },
    options: CallOptions = {},
  ): Promise<{ cancelled: RunRow[]; requested: RunRow[] }> {
    const now = this.#clock();
    const db = options.trx ?? this.#db;
    const cancelled = await cancelQueuedRuns(db, ids, by, now);
    const requested = await flagRunningRuns(db, ids, by, now);
    const children = cancelled.filter((r) => r.in_fleet).map((r) => r.id);
    if (children.length > 0) await this.#followParents(db, children, 'ended');
    return { cancelled, requested };
  }

  /**
   * queued → running. `onlyIf`: a further condition on the row (the worker's gate, in SQL; pass
   * the same object each time to share statements, see `Shareable`).
   */
  async markRunning(
    id: string,
    worker: { workerId: string; queueJobId?: string | null },
    options: Shareable & { onlyIf?: RawBuilder<boolean> } = {},
  ): Promise<Transition> {
    const start = { id, workerId: worker.workerId, queueJobId: worker.queueJobId ?? null };
    const started = await this.#transition(
      options,
      id,
      (db, deferNotify) =>
        sharing(options)
          ? this.#shared.start(start, options.onlyIf)
          : q.markRunning(db, id, worker, this.#clock(), { deferNotify, onlyIf: options.onlyIf }),
      FOLLOW,
    );
    if (started.moved || !startedBy(started.run, start)) return started;
    if (!options.trx) options.changes?.changed(started.run);
    return { moved: true, run: started.run };
  }

  /** Evidence of life for one run (external runs report it while queued, too). */
  async heartbeat(id: string, options: CallOptions = {}): Promise<Transition> {
    const now = this.#clock();
    return await this.#transition(options, id, (db) => q.touchHeartbeat(db, id, now));
  }

  /** One statement for the runs a worker process is executing; returns them with their cancel flag. */
  async heartbeatWorker(
    workerId: string,
    runIds: readonly string[],
    options: CallOptions = {},
  ): Promise<Array<{ id: string; cancelRequested: boolean }>> {
    return await q.touchWorkerHeartbeats(options.trx ?? this.#db, workerId, runIds, this.#clock());
  }

  async reportProgress(
    id: string,
    progress: { processed: number; total?: number | null },
    options: Shareable = {},
  ): Promise<Transition> {
    const checked = validateProgress(progress);
    if (sharing(options))
      return await this.#transition(options, id, () => this.#shared.progress({ id, ...checked }));
    const now = this.#clock();
    return await this.#transition(options, id, (db, deferNotify) =>
      writeProgress(db, id, checked, now, { deferNotify }),
    );
  }

  /**
   * Adds to the run's counts (`{items: 3}` twice → `{items: 6}`). With `attempt` (a handler's
   * counts), only while that attempt is the one running: a late count of an ended attempt is not
   * added to the next one's.
   */
  async addCounts(
    id: string,
    counts: unknown,
    options: CallOptions & { attempt?: number } = {},
  ): Promise<Transition> {
    const valid = validateCounts(counts);
    const now = this.#clock();
    return await this.#transition(options, id, (db) =>
      withCountsCheck(() => q.incrementCounts(db, id, valid, now, options.attempt)),
    );
  }

  /** A failed attempt that will be retried: back to `queued`, failure kept (sanitized). */
  async recordAttemptFailure(
    id: string,
    error: unknown,
    options: CallOptions = {},
  ): Promise<Transition> {
    const failure = sanitizeFailure(error);
    const now = this.#clock();
    return await this.#transition(options, id, (db) => q.requeue(db, id, { failure }, now));
  }

  /**
   * Gives a running run back to the queue without counting a failure (worker shutdown): a
   * `handed_back` event with the reason, and the next attempt's progress starts fresh.
   */
  async handBack(
    id: string,
    reason: HandBackReason,
    options: CallOptions = {},
  ): Promise<Transition> {
    const now = this.#clock();
    const message = HAND_BACK_COPY[reason];
    return await this.#transition(options, id, (db) => q.requeue(db, id, { reason, message }, now));
  }

  /**
   * A handler finished after its run was already terminal (reconciled, cancelled, timed out):
   * its result goes to the timeline as a late completion and changes nothing else (DESIGN §7.5).
   */
  async recordLateCompletion(
    id: string,
    result: { outcome: string; counts?: unknown },
    options: CallOptions = {},
  ) {
    const now = this.#clock();
    await q.insertLateCompletion(
      options.trx ?? this.#db,
      id,
      { outcome: result.outcome, counts: result.counts ?? {} },
      now,
    );
  }

  /**
   * A `reconcile_only` type's handler returned: the result (sanitized) is recorded as evidence on
   * the timeline and the run stays active; only the reconciler or the type's adapter ends it.
   * False when the run was no longer active (the caller records a late completion instead).
   */
  async recordHandlerResult(
    id: string,
    result: CompleteRun,
    options: CallOptions = {},
  ): Promise<boolean> {
    const checked = checkedResult(result);
    const now = this.#clock();
    return await q.insertHandlerResult(options.trx ?? this.#db, id, checked, now);
  }

  async complete(
    id: string,
    result: CompleteRun,
    options: CompleteOptions = {},
  ): Promise<Transition> {
    const checked = checkedResult(result);
    const progress = options.progress ? validateProgress(options.progress) : undefined;
    const jobId = options.jobId ?? null;
    const by = completer(options.by, jobId);
    let done: Transition;
    if (sharing(options)) {
      const completion = { id, ...checked, progress, jobId, by };
      done = await this.#transition(
        options,
        id,
        () => this.#shared.complete(completion, options.sameCommit),
        FOLLOW,
      );
    } else {
      const completion = handlerCompletion(id, { ...checked, progress }, this.#clock(), by);
      done = await this.#transition(
        options,
        id,
        (db, deferNotify) =>
          withCountsCheck(() =>
            q.completeRun(db, {
              ...completion,
              deferNotify,
              sameCommit: options.sameCommit,
              jobId,
            }),
          ),
        FOLLOW,
      );
    }
    if (done.moved || done.reason !== 'already_terminal' || !done.run || !by) return done;
    // Our own completion, whose commit landed but whose answer was lost: the retry finds it done.
    if (!(await q.completedBy(options.trx ?? this.#db, id, by))) return done;
    if (!options.trx) options.changes?.changed(done.run);
    return { moved: true, run: done.run };
  }

  /**
   * Cancel is cooperative: a queued run is cancelled at once; a running run gets its
   * `cancel_requested_at` flag and ends `cancelled` when its handler observes the signal.
   */
  async requestCancel(
    id: string,
    by: { userId: string | null },
    options: CallOptions = {},
  ): Promise<Transition & { effect?: 'cancelled' | 'cancel_requested' }> {
    const now = this.#clock();
    const cancelled = await this.#transition(
      options,
      id,
      (db) => q.completeRun(db, cancelBeforeStart(id, by, now)),
      FOLLOW,
    );
    if (cancelled.moved) return { ...cancelled, effect: 'cancelled' };
    if (cancelled.reason !== 'wrong_state') return cancelled;
    const flagged = await this.#transition(options, id, (db) =>
      q.flagCancelRequested(db, id, now, cancelRequested(by)),
    );
    return flagged.moved ? { ...flagged, effect: 'cancel_requested' } : flagged;
  }

  /** Flow control's admission (DESIGN §17): these held runs get their queue jobs now. */
  async admit(ids: string[], options: CallOptions = {}): Promise<RunRow[]> {
    return await q.admitRuns(options.trx ?? this.#db, ids, this.#clock());
  }

  /**
   * A queued run that has not started waits for admission again (its worker found it paused):
   * a `held` event says why.
   */
  async hold(id: string, why: { reason: string; message: string }, options: CallOptions = {}) {
    const now = this.#clock();
    return await this.#transition(options, id, (db) => q.holdRun(db, id, now, why));
  }

  /** A queued run past its `expiresAt`: cancelled with `run.expired`, never run. */
  async expire(id: string, options: CallOptions = {}): Promise<Transition> {
    const now = this.#clock();
    return await this.#transition(
      options,
      id,
      (db) => q.completeRun(db, expiredBeforeStart(id, now)),
      FOLLOW,
    );
  }

  /** The reconciler's transition: completed/failed with the evidence that justified it. */
  async forceFail(id: string, fail: ForceFail, options: CallOptions = {}): Promise<Transition> {
    const now = this.#clock();
    return await this.#transition(
      options,
      id,
      (db) => q.completeRun(db, reconciledFailure(id, fail, now)),
      FOLLOW,
    );
  }

  /** System-plane triage: a terminal run is marked reviewed once; its truth keeps its class. */
  async markReviewed(
    id: string,
    by: { userId: string },
    options: CallOptions = {},
  ): Promise<Transition> {
    const now = this.#clock();
    return await this.#transition(options, id, (db) => q.markReviewed(db, id, by.userId, now));
  }

  /**
   * Links a fleet's children (started or joined) to its parent, in the start's transaction; the
   * joined runs that already run or ended move the parent at once.
   */
  async linkFleet(
    parentId: string,
    children: ReadonlyArray<{ runId: string; tenantId: string; reused: boolean }>,
    options: CallOptions = {},
  ): Promise<void> {
    const db = options.trx ?? this.#db;
    await linkChildren(db, parentId, children);
    const joined = children.filter((c) => c.reused).map((c) => c.runId);
    if (joined.length > 0) await this.#followParents(db, joined, 'both');
  }

  /**
   * Moves the parents of these children (DESIGN §19): a running child makes its parent running; an
   * ended one is counted, and the last one completes its parent. Compare-and-set and idempotent:
   * a child already counted is not counted again.
   */
  async settleParents(childIds: readonly string[], options: CallOptions = {}): Promise<void> {
    await this.#followParents(options.trx ?? this.#db, childIds, 'both');
  }

  /**
   * The reconciler's safety net: children that ended uncounted, and parents whose children were
   * all counted but which did not complete (a completion lost between its statements).
   */
  async settleLostFleets(limit = 1000): Promise<{ parentsCompleted: string[] }> {
    const now = this.#clock();
    const children = await uncountedEndedChildren(this.#db, limit);
    const moved = await countEndedChildren(this.#db, children, now);
    const done = await countedActiveParents(this.#db, limit);
    const completed = await completeDoneParents(this.#db, [...new Set([...moved, ...done])], now);
    return { parentsCompleted: completed.map((r) => r.id) };
  }

  /** A fleet parent's cancel flag (its children are cancelled by the caller, in the same transaction). */
  async requestFleetCancel(
    id: string,
    by: { userId: string | null },
    options: CallOptions = {},
  ): Promise<Transition> {
    const now = this.#clock();
    return await this.#transition(options, id, (db) => flagFleetCancel(db, id, now, by));
  }

  async #followParents(
    db: Kysely<Database>,
    childIds: readonly string[],
    what: 'running' | 'ended' | 'both',
  ): Promise<void> {
    const now = this.#clock();
    if (what !== 'ended') await markParentsRunning(db, childIds, now);
    if (what === 'running') return;
    const moved = await countEndedChildren(db, childIds, now);
    await completeDoneParents(db, moved, now);
  }

  async get(id: string, options: CallOptions = {}): Promise<RunRow | undefined> {
    return await q.findRun(options.trx ?? this.#db, id);
  }

  /**
   * A fleet's child started or ended: its parents follow in their own statements (a run in no
   * fleet pays nothing). Outside a transaction, a failure here leaves the child's own transition
   * standing; the reconciler's sweep settles the parent (`settleLostFleets`).
   */
  async #childMoved(db: Kysely<Database>, child: RunRow, inTransaction: boolean): Promise<void> {
    const what = child.status === 'completed' ? 'ended' : 'running';
    if (inTransaction) return await this.#followParents(db, [child.id], what);
    try {
      await this.#followParents(db, [child.id], what);
    } catch {
      // Left to the sweep (above).
    }
  }

  /**
   * Applies one compare-and-set statement; when it moves nothing, reports how the run stands.
   * With `changes` (and no transaction) the statement does not NOTIFY: the moved run is handed
   * to `changes` once the statement committed.
   */
  async #transition(
    options: DeferredOptions,
    id: string,
    apply: (db: Kysely<Database>, deferNotify: boolean) => Promise<RunRow | undefined>,
    follow = false,
  ): Promise<Transition> {
    const db = options.trx ?? this.#db;
    const changes = options.trx ? undefined : options.changes;
    const moved = await apply(db, changes !== undefined);
    if (moved) changes?.changed(moved);
    if (moved && follow && moved.in_fleet)
      await this.#childMoved(db, moved, options.trx !== undefined);
    if (moved) return { moved: true, run: moved };
    const current = await q.findRun(db, id);
    if (!current) return { moved: false, reason: 'not_found', run: undefined };
    return {
      moved: false,
      reason: current.status === 'completed' ? 'already_terminal' : 'wrong_state',
      run: current,
    };
  }
}
