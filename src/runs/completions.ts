import type { SummaryCounts } from '../domain/counts.js';
import { validateCounts } from '../domain/counts.js';
import { terminalNotice } from '../domain/notice.js';
import type { ReasonCode } from '../domain/reason-codes.js';
import type { RunFailure, TerminalOutcome } from '../domain/run.js';
import { sanitizeFailure } from '../domain/sanitize.js';
import type { Completer } from './call-options.js';
import type { Completion, CompletionFields, CompletionGuard, EventSpec } from './run-queries.js';

// The terminal transitions RunService applies, built here: what a run ends with, its events and
// its notice. Nothing here writes; RunService stays the only writer of run state.

export interface CompleteRun {
  outcome: TerminalOutcome;
  counts?: unknown;
  failures?: unknown[];
}

export interface ForceFail {
  reasonCode: ReasonCode;
  /** Operator-safe explanation stored as the run's failure message. */
  message: string;
  thresholdSeconds: number;
  evidence: Record<string, unknown>;
  source: string;
  /** Transition only if the run is still in the state the evidence was read from. */
  expect?: CompletionGuard;
}

/** A handler's result, validated and sanitized. */
export function checkedResult(result: CompleteRun): {
  outcome: TerminalOutcome;
  counts: SummaryCounts;
  failures: RunFailure[];
} {
  const counts: SummaryCounts = result.counts === undefined ? {} : validateCounts(result.counts);
  const failures: RunFailure[] = (result.failures ?? []).map((f) => sanitizeFailure(f));
  return { outcome: result.outcome, counts, failures };
}

/** `by`: the worker's attempt completing it (`completer`), recorded in the `completed` event. */
export function handlerCompletion(
  id: string,
  fields: ReturnType<typeof checkedResult> & Pick<CompletionFields, 'progress'>,
  at: Date,
  by?: Completer,
): Completion {
  return {
    id,
    fields,
    at,
    events: [{ kind: 'completed', payload: { outcome: fields.outcome, ...by } }],
    notice: terminalNotice({ outcome: fields.outcome, failures: fields.failures }),
  };
}

export function cancelRequested(by: { userId: string | null }): EventSpec {
  return { kind: 'cancel_requested', payload: { userId: by.userId } };
}

/** A queued run cancelled before it started. */
export function cancelBeforeStart(id: string, by: { userId: string | null }, at: Date): Completion {
  const failure: RunFailure = { code: 'run.cancelled', message: 'Cancelled before it started.' };
  return {
    id,
    fields: { outcome: 'cancelled', counts: {}, failures: [failure] },
    at,
    events: [cancelRequested(by), { kind: 'completed', payload: { outcome: 'cancelled' } }],
    guard: { status: 'queued' },
    notice: terminalNotice({ outcome: 'cancelled', failures: [failure] }),
  };
}

/** A queued run past its `expiresAt` (DESIGN §17): cancelled without running. */
export function expiredBeforeStart(id: string, at: Date): Completion {
  const failure: RunFailure = {
    code: 'run.expired',
    message: 'It expired before it could start.',
  };
  return {
    id,
    fields: { outcome: 'cancelled', counts: {}, failures: [failure] },
    at,
    events: [{ kind: 'completed', payload: { outcome: 'cancelled', reasonCode: 'run.expired' } }],
    guard: { status: 'queued' },
    notice: terminalNotice({ outcome: 'cancelled', failures: [failure] }),
  };
}

/** The reconciler's failure, with the evidence that justified it. */
export function reconciledFailure(id: string, fail: ForceFail, at: Date): Completion {
  const reconciliation = {
    reasonCode: fail.reasonCode,
    detectedAt: at.toISOString(),
    thresholdSeconds: fail.thresholdSeconds,
    evidence: fail.evidence,
    source: fail.source,
  };
  const failure = sanitizeFailure({ code: fail.reasonCode, message: fail.message });
  return {
    id,
    fields: { outcome: 'failed', counts: {}, failures: [failure], reconciliation },
    at,
    events: [{ kind: 'reconciled', payload: { reasonCode: fail.reasonCode } }],
    guard: fail.expect,
    notice: terminalNotice({
      outcome: 'failed',
      failures: [failure],
      reconciliation: { reasonCode: fail.reasonCode },
    }),
  };
}
