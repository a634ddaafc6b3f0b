import type { JobHelpers, Task } from 'graphile-worker';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, RunRow } from '../db/schema.js';
import type { TerminalOutcome } from '../domain/run.js';
import { DEFAULT_RUN_LOG_CAPS, type RunLogCaps } from '../domain/run-log-lines.js';
import { sanitizeFailure } from '../domain/sanitize.js';
import { enterLane } from '../flow/lanes.js';
import type { RunChanges } from '../runs/run-change-publisher.js';
import { appendRunLog } from '../runs/run-logs.js';
import type { CompletedBy, RunService } from '../runs/run-service.js';
import { checkGate, gatePasses } from './gate.js';
import { handlerSeconds } from './handler-metrics.js';
import { contextFor, type PersistentRuns, persistentRuns } from './persistent-runs.js';
import { type Progress, ProgressCoalescer } from './progress-coalescer.js';
import { enqueueRun, type FinishingJob, finishingJob, isJobPayload } from './queue.js';
import type { RegisteredOperation } from './registry.js';
import { retryWhileUnavailable } from './retry-write.js';
import type { RunLog } from './run-log.js';
import { RunLogBuffer } from './run-log-buffer.js';
import { GRACE_OVER, type Settled, type StopReason, withinGrace } from './stop-grace.js';

export { STOP_GRACE_MS, type StopReason } from './stop-grace.js';

export interface WrapperDeps {
  db: Kysely<Database>;
  runs: RunService;
  logger: Logger;
  workerId: string;
  /** Live handlers of this process, so heartbeats (cancel) and shutdown can abort them. */
  inflight: Map<string, AbortController>;
  /**
   * Where the hot path's transitions (running, progress, completion) announce themselves instead
   * of a NOTIFY in their own commit (RunChangePublisher). Unset: the trigger notifies.
   */
  changes?: RunChanges;
  /** Counts the runs this worker finished for its summary line (each run's own lines are debug). */
  runLog?: RunLog;
  /** Flow control's admitter: woken when an admitted run starts or ends (a slot may be free). */
  flow?: { wake(): void };
  /** What each run's log keeps (default DEFAULT_RUN_LOG_CAPS: 2,000 lines, 1 MiB). */
  runLogCaps?: RunLogCaps;
}

const STOPPED = Symbol('stopped');
/** One object for every start, so concurrent starts can share a statement (SharedStatements). */
const GATE = gatePasses();

/**
 * Wraps an operation's handler as a queue task (DESIGN §7.2): gate, mark running, run with a
 * deadline and an abort signal, then write the outcome. The run tells the truth whatever the
 * handler does: returns, throws, hangs past its timeout, ignores a cancel, or finishes too late.
 */
export function wrapOperation(operation: RegisteredOperation, deps: WrapperDeps): Task {
  return async (payload: unknown, helpers: JobHelpers) => {
    if (!isJobPayload(payload)) throw new Error('job payload names no run');
    // While the database is away, wait for it (within the run's queued window) rather than fail
    // the job: graphile-worker could not record the failure either.
    const until = Date.now() + operation.policy.queuedStaleAfterSeconds * 1000;
    const persist = <T>(what: string, log: Logger, write: () => Promise<T>) =>
      retryWhileUnavailable(write, { until, log, what });
    const worker = { workerId: deps.workerId, queueJobId: helpers.job.id };
    // One statement in the common case: the gate (in SQL) and queued → running together, shared
    // with the starts of this worker that arrive while one is on its way (SharedStatements).
    let started = await persist('start', deps.logger, () =>
      deps.runs.markRunning(payload.runId, worker, {
        changes: deps.changes,
        onlyIf: GATE,
        shared: true,
      }),
    );
    if (!started.moved) {
      // Not started: the re-read run says why. Gone, finished, or owned by another attempt: the
      // run already has its truth. Still queued: the gate's verdict, with its reason.
      const run = started.run;
      if (run?.status !== 'queued') return;
      const log = deps.logger.child({ runId: run.id, type: run.type });
      const verdict = await persist('gate check', log, () => checkGate(deps.db, run));
      if (!verdict.pass && 'hold' in verdict) {
        // Paused: back to waiting for admission; this job ends, admission gives it a new one.
        const hold = verdict.hold;
        await persist('hold', log, () =>
          deps.db.transaction().execute(async (trx) => {
            const held = await deps.runs.hold(run.id, hold, { trx });
            if (held.moved) await enterLane(trx, held.run);
          }),
        );
        log.info({ reason: hold.reason }, 'run held at the gate');
        deps.flow?.wake();
        return;
      }
      if (!verdict.pass) {
        await persist('gate outcome', log, () =>
          deps.runs.complete(
            run.id,
            {
              outcome: verdict.outcome,
              failures: [{ code: verdict.code, message: verdict.message }],
            },
            {
              changes: deps.changes,
              ...finishingJob(helpers.job.id),
              by: { workerId: deps.workerId, attempt: run.attempt },
              shared: true,
            },
          ),
        );
        log.info({ outcome: verdict.outcome, reasonCode: verdict.code }, 'run stopped at the gate');
        deps.runLog?.finished(verdict.outcome, 0);
        if (run.eligible_at !== null) deps.flow?.wake(); // its flow slot is free
        return;
      }
      // The gate passes now (it changed in between): start without it.
      started = await persist('start', log, () =>
        deps.runs.markRunning(run.id, worker, { changes: deps.changes }),
      );
    }
    if (!started.moved) return;
    const log = deps.logger.child({ runId: started.run.id, type: started.run.type });
    log.debug({ attempt: started.run.attempt, jobAttempt: helpers.job.attempts }, 'run started');
    // An admitted run left the ready set, and frees its limits' slot when it ends.
    const admitted = started.run.eligible_at !== null;
    if (admitted) deps.flow?.wake();
    try {
      await execute(operation, deps, started.run, helpers, log);
    } finally {
      if (admitted) deps.flow?.wake();
    }
  };
}

async function execute(
  operation: RegisteredOperation,
  deps: WrapperDeps,
  run: RunRow,
  helpers: JobHelpers,
  log: Logger,
): Promise<void> {
  const runs = persistentRuns(deps.runs, operation, log, deps.changes);
  const controller = new AbortController();
  deps.inflight.set(run.id, controller);
  const timer = setTimeout(
    () => controller.abort('timeout' satisfies StopReason),
    operation.policy.timeoutSeconds * 1000,
  );
  const stopped = new Promise<typeof STOPPED>((resolve) =>
    controller.signal.addEventListener('abort', () => resolve(STOPPED), { once: true }),
  );
  const reports = new ProgressCoalescer((p) => runs.reportProgress(run.id, p, { shared: true }), {
    log,
  });
  const caps = deps.runLogCaps ?? DEFAULT_RUN_LOG_CAPS;
  const lines = new RunLogBuffer(
    (batch, alsoDropped) =>
      runs.persist('log', () => appendRunLog(deps.db, run, batch, { caps, alsoDropped })),
    { caps, log },
  );
  const ctx = contextFor(run, controller.signal, runs, reports, lines, log);
  const handler = (async () => operation.run!(ctx, run.input))().then(
    (result): Settled => ({ ok: true, result }),
    (error: unknown): Settled => ({ ok: false, error }),
  );
  const finalAttempt = helpers.job.attempts >= helpers.job.max_attempts;
  // A terminal write also ends the queue's job, in the same commit.
  // Shared: this worker's completions may go together in one statement (SharedStatements).
  // `by`: a retry of a completion whose answer was lost recognizes it as this attempt's own.
  const finish = {
    ...finishingJob(helpers.job.id),
    by: { workerId: deps.workerId, attempt: run.attempt },
    shared: true,
  };
  const startedAt = performance.now();
  /** What this attempt wrote as the run's end, if it did: counted in the worker's summary. */
  let finished: TerminalOutcome | undefined;
  try {
    // Past its deadline (or on cancel/shutdown) the signal aborts; the handler then has the stop
    // grace to settle cooperatively before we stop waiting for it.
    const settled = await Promise.race([handler, stopped]);
    if (settled === STOPPED) {
      const reason = controller.signal.reason as StopReason;
      const stop = await withinGrace(handler);
      if (stop === GRACE_OVER) {
        // The handler ignored its signal: whatever it returns later is late, never applied. A
        // rejection carrying our own abort reason is the handler obeying the stop, not a result.
        void handler.then((late) => {
          if (late.ok || late.error !== controller.signal.reason)
            return recordIfLate(runs, run.id, late, log);
        });
      }
      const cooperative = stop === GRACE_OVER ? undefined : stop;
      await lines.close();
      const progress = await reports.take();
      finished = await onStopped(reason, operation, deps, runs, run, finalAttempt, log, {
        cooperative,
        progress,
        finish,
      });
      return;
    }
    // From here on no progress write starts: the last unwritten report goes with the completion.
    // The log's last lines are written first, so a run's lines are all there once it has ended.
    await lines.close();
    const progress = await reports.take();
    if (settled.ok && operation.policy.terminalTruth === 'reconcile_only') {
      // Only the reconciler or the type's adapter may declare the end: the result is evidence.
      if (progress) await runs.reportProgress(run.id, progress);
      const recorded = await runs.recordHandlerResult(run.id, {
        outcome: settled.result.outcome,
        counts: settled.result.counts,
        failures: settled.result.failures,
      });
      if (recorded)
        log.info(
          { outcome: settled.result.outcome },
          'handler returned; the run awaits its adapter (terminalTruth reconcile_only)',
        );
      else await recordIfLate(runs, run.id, settled, log);
      return;
    }
    if (settled.ok) {
      const result = settled.result;
      const done = await runs.complete(
        run.id,
        { outcome: result.outcome, counts: result.counts, failures: result.failures },
        { progress, ...finish },
      );
      if (done.moved) {
        finished = result.outcome;
        log.debug(
          { outcome: result.outcome, ms: Math.round(performance.now() - startedAt) },
          'run completed',
        );
      } else await recordIfLate(runs, run.id, settled, log);
      return;
    }
    if (finalAttempt) {
      const done = await runs.complete(
        run.id,
        { outcome: 'failed', failures: [sanitizeFailure(settled.error, 'handler.error')] },
        { progress, ...finish },
      );
      if (done.moved) finished = 'failed';
      log.warn(
        { failure: sanitizeFailure(settled.error).message },
        'run failed on its last attempt',
      );
      return;
    }
    await runs.recordAttemptFailure(run.id, settled.error);
    log.warn({ attempt: run.attempt }, 'attempt failed; the queue will retry');
    throw settled.error instanceof Error ? settled.error : new Error('attempt failed');
  } finally {
    void reports.take(); // whatever path ended the attempt, no progress write starts after it
    void lines.close();
    clearTimeout(timer);
    deps.inflight.delete(run.id);
    const ms = performance.now() - startedAt;
    handlerSeconds.observe({ type: operation.type }, ms / 1000);
    if (finished) deps.runLog?.finished(finished, ms);
  }
}

async function onStopped(
  reason: StopReason,
  operation: RegisteredOperation,
  deps: WrapperDeps,
  /** The run's writes, retried within the same lifecycle window as the handler's. */
  runs: PersistentRuns,
  run: RunRow,
  finalAttempt: boolean,
  log: Logger,
  end: {
    /** What the handler settled with within the grace (undefined: it ignored the signal). */
    cooperative?: Settled;
    /** Its last progress report not yet written (a requeue resets progress: dropped there). */
    progress?: Progress;
    /** The queue's job completion, written with a terminal completion. */
    finish: FinishingJob & { by: CompletedBy; shared: boolean };
  },
): Promise<TerminalOutcome | undefined> {
  const { cooperative, progress, finish } = end;
  const counts = cooperative?.ok ? cooperative.result.counts : undefined;
  if (reason === 'cancel') {
    const done = await runs.complete(
      run.id,
      {
        outcome: 'cancelled',
        counts,
        failures: [{ code: 'run.cancelled', message: 'Cancelled while running.' }],
      },
      { progress, ...finish },
    );
    log.info('run cancelled');
    return done.moved ? 'cancelled' : undefined;
  }
  if (reason === 'shutdown') {
    // Hand the run back: requeue it and give it a fresh job in one transaction, so a deploy never
    // leaves it `running` with nobody working on it, and the hand-back costs no retry.
    await runs.persist('hand-back', () =>
      deps.db.transaction().execute(async (trx) => {
        const back = await deps.runs.handBack(run.id, 'worker_shutdown', { trx });
        if (!back.moved) return;
        await enqueueRun(trx, {
          taskIdentifier: operation.taskIdentifier,
          runId: run.id,
          maxAttempts: operation.policy.retries + 1,
        });
      }),
    );
    log.info('worker shutting down: run handed back to the queue');
    return undefined;
  }
  const failure = {
    code: 'queue.timeout',
    message: `The handler did not finish within its ${operation.policy.timeoutSeconds} s timeout.`,
  };
  if (finalAttempt) {
    const done = await runs.complete(
      run.id,
      { outcome: 'failed', counts, failures: [failure] },
      { progress, ...finish },
    );
    log.warn({ timeoutSeconds: operation.policy.timeoutSeconds }, 'run timed out');
    return done.moved ? 'failed' : undefined;
  }
  await runs.recordAttemptFailure(run.id, failure);
  throw new Error(failure.message);
}

async function recordIfLate(
  runs: PersistentRuns,
  runId: string,
  late: Settled,
  log: Logger,
): Promise<void> {
  const outcome = late.ok ? late.result.outcome : 'failed';
  await runs
    .recordLateCompletion(runId, { outcome, counts: late.ok ? late.result.counts : undefined })
    .catch((error: unknown) => log.error({ err: error }, 'could not record a late completion'));
  log.info(
    { outcome },
    'late result recorded, not applied: the wrapper had stopped waiting for it',
  );
}
