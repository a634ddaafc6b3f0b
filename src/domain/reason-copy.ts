import type { ReasonCode } from './reason-codes.js';

/** Operator copy for each reason code, and what it means for diagnostics (DESIGN §7). */
export const REASON_COPY: Record<ReasonCode, { operator: string; diagnostics: string }> = {
  'run.stale_queued': {
    operator: 'No worker picked it up within the lifecycle window.',
    diagnostics:
      'Queued longer than queuedStaleAfterSeconds with no active queue job; the reconciler failed it.',
  },
  'run.stale_running': {
    operator: 'It ran longer than its lifecycle window allows.',
    diagnostics: 'Running longer than runningStaleAfterSeconds; the reconciler failed it.',
  },
  'run.heartbeat_lost': {
    operator: 'The worker stopped reporting.',
    diagnostics:
      'No heartbeat for 3 × heartbeatSeconds from the worker that held the run; the reconciler failed it.',
  },
  'queue.attempts_exhausted': {
    operator: 'The queue gave up after repeated attempts.',
    diagnostics:
      'graphile-worker failed the job permanently without the wrapper finishing; the failed-job bridge failed the run.',
  },
  'queue.timeout': {
    operator: 'It did not finish within its time limit.',
    diagnostics:
      'The handler ran past timeoutSeconds on its last attempt and was no longer waited for.',
  },
  'gate.tenant_inactive': {
    operator: 'The tenant is inactive, so it was not run.',
    diagnostics:
      'The legitimacy gate found the tenant inactive before the attempt; the handler never ran.',
  },
  'gate.initiator_unauthorized': {
    operator: 'The person who started it may no longer start it, so it was not run.',
    diagnostics:
      'The legitimacy gate found the initiator without operations.start in this scope; the handler never ran.',
  },
  'run.cancelled': {
    operator: 'It was cancelled.',
    diagnostics:
      'A cancel was requested; a queued run ends at once, a running one when its handler stops.',
  },
  'run.expired': {
    operator: 'It expired before it could start.',
    diagnostics:
      'The run was still queued at its expiresAt (held by a limit, a pause, or waiting for a worker), so it was cancelled without running.',
  },
  'adapter.source_failed': {
    operator: 'The system that runs it reported a failure.',
    diagnostics: "The type's reconcile adapter reported the source of truth as failed.",
  },
  'handler.error': {
    operator: 'The operation raised an error on its last attempt.',
    diagnostics: 'The handler threw on its last attempt; the sanitized error is in the failures.',
  },
};
