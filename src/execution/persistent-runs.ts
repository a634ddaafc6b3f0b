import type { Logger } from 'pino';
import type { RunRow } from '../db/schema.js';
import { LOG_LEVELS, toLogLine } from '../domain/run-log-lines.js';
import type { RunChanges } from '../runs/run-change-publisher.js';
import { validateProgress } from '../runs/run-checks.js';
import type { RunService } from '../runs/run-service.js';
import type { RunContext, RunLogger } from './operation.js';
import type { ProgressCoalescer } from './progress-coalescer.js';
import type { RegisteredOperation } from './registry.js';
import { retryWhileUnavailable } from './retry-write.js';
import type { RunLogBuffer } from './run-log-buffer.js';

/**
 * The run's writes, each retried while the database is unreachable for as long as the run's
 * lifecycle window lasts (DESIGN §16: results are not dropped; after that the reconciler judges).
 */
export type PersistentRuns = Pick<
  RunService,
  | 'complete'
  | 'recordAttemptFailure'
  | 'recordLateCompletion'
  | 'recordHandlerResult'
  | 'reportProgress'
  | 'addCounts'
  | 'heartbeat'
> & { persist<T>(what: string, write: () => Promise<T>): Promise<T> };

/** `changes`: completions and progress announce themselves there, not by NOTIFY (RunChangePublisher). */
export function persistentRuns(
  runs: RunService,
  operation: RegisteredOperation,
  log: Logger,
  changes?: RunChanges,
): PersistentRuns {
  const until = Date.now() + operation.policy.runningStaleAfterSeconds * 1000;
  const persist = <T>(what: string, write: () => Promise<T>) =>
    retryWhileUnavailable(write, { until, log, what });
  return {
    persist,
    complete: (id, result, options) =>
      persist('completion', () => runs.complete(id, result, { changes, ...options })),
    recordAttemptFailure: (id, error) =>
      persist('attempt failure', () => runs.recordAttemptFailure(id, error)),
    recordLateCompletion: (id, result) =>
      persist('late completion', () => runs.recordLateCompletion(id, result)),
    recordHandlerResult: (id, result) =>
      persist('handler result', () => runs.recordHandlerResult(id, result)),
    reportProgress: (id, progress, options) =>
      persist('progress', () => runs.reportProgress(id, progress, { changes, ...options })),
    addCounts: (id, counts, options) => persist('count', () => runs.addCounts(id, counts, options)),
    heartbeat: (id) => persist('heartbeat', () => runs.heartbeat(id)),
  };
}

/**
 * The handler's context. Progress goes through `reports` (coalesced) and log lines through `lines`
 * (batched): neither waits for the database; an invalid report still throws at the call. Log
 * lines are also this process's own `debug` lines, as handlers' lines were before they were stored.
 */
export function contextFor(
  run: RunRow,
  signal: AbortSignal,
  runs: PersistentRuns,
  reports: ProgressCoalescer,
  lines: RunLogBuffer,
  log: Logger,
): RunContext {
  const logger = Object.fromEntries(
    LOG_LEVELS.map((level) => [
      level,
      (message: string, fields?: Record<string, unknown>) => {
        const line = toLogLine(level, message, fields, new Date());
        lines.add(line);
        log.debug({ logLevel: line.level, fields: line.fields ?? undefined }, line.message);
      },
    ]),
  ) as unknown as RunLogger;
  return {
    runId: run.id,
    attempt: run.attempt,
    signal,
    log: logger,
    async progress(progress) {
      reports.report(validateProgress(progress));
    },
    async count(key, n = 1) {
      await runs.addCounts(run.id, { [key]: n }, { attempt: run.attempt });
    },
    async heartbeat() {
      await runs.heartbeat(run.id);
    },
  };
}
