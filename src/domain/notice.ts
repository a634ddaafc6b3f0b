import { DEFAULT_POLICY } from './lifecycle.js';
import type { Reconciliation, RunFailure, TerminalOutcome } from './run.js';
import { deriveTruth, type Truth } from './truth.js';

/** The truth of a finished run from its completion alone (what a notice or a count needs). */
export function completionTruth(completion: {
  outcome: TerminalOutcome;
  failures: RunFailure[];
  reconciliation?: Pick<Reconciliation, 'reasonCode'> | null;
}): Truth {
  const epoch = new Date(0);
  return deriveTruth(
    {
      status: 'completed',
      outcome: completion.outcome,
      created_at: epoch,
      started_at: null,
      last_heartbeat_at: null,
      progress_processed: null,
      progress_total: null,
      failures: completion.failures,
      reconciliation: completion.reconciliation
        ? {
            reasonCode: completion.reconciliation.reasonCode,
            detectedAt: '',
            thresholdSeconds: 0,
            lastHeartbeatAt: null,
            evidence: {},
            source: '',
          }
        : null,
      cancel_requested_at: null,
    },
    DEFAULT_POLICY,
    epoch,
  );
}

/**
 * The in-app notification for a run that just became terminal (DESIGN §8). Its words come from
 * `deriveTruth`, so a notification is never framed more calmly than the run's own page.
 */
export function terminalNotice(completion: Parameters<typeof completionTruth>[0]): {
  label: string;
  body: string;
} {
  const truth = completionTruth(completion);
  // The title is `<type>: <label>`; the type is added where the run row is at hand.
  const label = truth.badges.map((b) => b.label.toLowerCase()).join(', ');
  const headline = /[.!?)]$/.test(truth.headline) ? truth.headline : `${truth.headline}.`;
  return { label, body: `${headline} ${truth.guidance}` };
}
