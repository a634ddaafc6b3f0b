import type { ReasonCode } from './reason-codes.js';
import { REASON_COPY } from './reason-copy.js';

/** What a person reads for one timeline entry: a title, and a line of detail when there is one. */
export interface EventCopy {
  title: string;
  detail: string | null;
}

const OUTCOME_WORDS: Record<string, string> = {
  succeeded: 'succeeded',
  partially_succeeded: 'partially succeeded',
  failed: 'failed',
  blocked: 'was blocked',
  cancelled: 'was cancelled',
};

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() ? value : null;
const attemptOf = (payload: Record<string, unknown>) =>
  typeof payload.attempt === 'number' ? ` ${payload.attempt}` : '';
const outcomeOf = (payload: Record<string, unknown>) =>
  OUTCOME_WORDS[String(payload.outcome)] ?? String(payload.outcome ?? 'ended');

/**
 * An ended attempt's counts after its detail: the run's own counts start again with the next
 * attempt, so this is where an earlier attempt's stay visible.
 */
function withCounts(detail: string | null, payload: Record<string, unknown>): string | null {
  const counts = payload.counts;
  if (counts === null || typeof counts !== 'object') return detail;
  const parts = Object.entries(counts).map(([key, n]) => `${key} ${n}`);
  if (!parts.length) return detail;
  const line = `This attempt counted ${parts.join(', ')}.`;
  return detail ? `${detail.replace(/\.$/, '')}. ${line}` : line;
}

/**
 * The one wording of the run timeline (every surface shows these, never the raw event kind):
 * a hand-back says why, a reconciliation names its reason, a late result says it changed nothing.
 */
export function eventCopy(kind: string, payload: Record<string, unknown>): EventCopy {
  switch (kind) {
    case 'created':
      return { title: 'Started', detail: null };
    case 'start_reused':
      return {
        title: 'Start reused this run',
        detail: 'A start with the same identity found it still active.',
      };
    case 'running': {
      const worker = text(payload.workerId);
      return {
        title: `Attempt${attemptOf(payload)} running`,
        detail: worker ? `on worker ${worker}` : null,
      };
    }
    case 'attempt_failed':
      return {
        title: `Attempt${attemptOf(payload)} failed`,
        detail: withCounts(
          text(payload.code) ? `${payload.code}; the run went back to the queue to retry` : null,
          payload,
        ),
      };
    case 'handed_back':
      return {
        title: `Attempt${attemptOf(payload)} handed back`,
        detail: withCounts(text(payload.message) ?? text(payload.reason), payload),
      };
    case 'cancel_requested':
      return { title: 'Cancel requested', detail: null };
    case 'reconciled': {
      const reason = REASON_COPY[payload.reasonCode as ReasonCode];
      return { title: 'Reconciled', detail: reason?.operator ?? text(payload.reasonCode) };
    }
    case 'completed':
      return { title: `Finished: ${outcomeOf(payload)}`, detail: null };
    case 'late_completion':
      return {
        title: 'Late result recorded',
        detail: `The handler returned (${outcomeOf(payload)}) after the run had ended; the run keeps its result.`,
      };
    case 'handler_returned':
      return {
        title: 'Handler returned',
        detail: `It reported ${outcomeOf(payload)}; the run awaits its source of truth to end it.`,
      };
    case 'reviewed':
      return { title: 'Marked reviewed', detail: null };
    case 'admitted':
      return {
        title: 'Admitted',
        detail: 'Its limits had room, so it was handed to the workers.',
      };
    case 'held':
      return {
        title: 'Held',
        detail: text(payload.message) ?? 'It went back to waiting before it started.',
      };
    default:
      return { title: kind.replace(/_/g, ' '), detail: null };
  }
}
