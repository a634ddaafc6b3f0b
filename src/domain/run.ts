/** Run lifecycle vocabulary (DESIGN §3). The words here are part of the API contract. */

export const RUN_STATUSES = ['queued', 'running', 'completed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_OUTCOMES = [
  'succeeded',
  'partially_succeeded',
  'failed',
  'blocked',
  'cancelled',
] as const;
export type TerminalOutcome = (typeof TERMINAL_OUTCOMES)[number];
export type RunOutcome = 'pending' | TerminalOutcome;

/** Timeline entries written to `run_events`, one per transition (append-only). */
export const RUN_EVENT_KINDS = [
  'created',
  'start_reused',
  'running',
  'attempt_failed',
  'handed_back',
  'cancel_requested',
  'reconciled',
  'completed',
  'late_completion',
  'handler_returned',
  'reviewed',
  'admitted',
  'held',
] as const;
export type RunEventKind = (typeof RUN_EVENT_KINDS)[number];

/** A sanitized failure as stored in `operation_runs.failures`. */
export interface RunFailure {
  code: string;
  message: string;
}

/** Evidence the reconciler records when it force-fails a run (DESIGN §3 `reconciliation`). */
export interface Reconciliation {
  reasonCode: string;
  detectedAt: string;
  thresholdSeconds: number;
  lastHeartbeatAt: string | null;
  evidence: Record<string, unknown>;
  source: string;
}

/** Time is a parameter in domain and service code so tests never wait for it. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
