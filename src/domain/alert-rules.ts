/**
 * Alert rules (DESIGN §18): what a rule watches and where it says so. The words here are part of
 * the API contract.
 */
export const ALERT_ENDINGS = ['failed', 'blocked', 'reconciled'] as const;
export type AlertEnding = (typeof ALERT_ENDINGS)[number];

export type AlertCondition =
  | { kind: 'run_ended'; outcomes: AlertEnding[]; types?: string[]; tenantIds?: string[] }
  | {
      kind: 'failure_count';
      threshold: number;
      windowMinutes: number;
      types?: string[];
      tenantIds?: string[];
    }
  | { kind: 'queue_wait'; p95Seconds: number; forMinutes: number; types?: string[] }
  | { kind: 'likely_stale' };

export type AlertDestination =
  | { kind: 'webhook'; url: string }
  | { kind: 'slack'; url: string }
  | { kind: 'email'; to: string[] };

/** A run that ended as an alert sees it. */
export interface AlertEvent {
  runId: string;
  type: string;
  tenantId: string | null;
  outcome: string;
  reconciled: boolean;
}

/** How an ended run reads to a rule: reconciled whatever its outcome, else its outcome. */
export function endingOf(event: Pick<AlertEvent, 'outcome' | 'reconciled'>): string {
  return event.reconciled ? 'reconciled' : event.outcome;
}

/** Whether a rule that counts endings counts this one (its outcomes, types and tenants). */
export function ruleCounts(condition: AlertCondition, event: AlertEvent): boolean {
  if (condition.kind !== 'run_ended' && condition.kind !== 'failure_count') return false;
  const ending = endingOf(event);
  const outcomes: readonly string[] =
    condition.kind === 'run_ended' ? condition.outcomes : ALERT_ENDINGS;
  if (!outcomes.includes(ending)) return false;
  if (condition.types?.length && !condition.types.includes(event.type)) return false;
  if (
    condition.tenantIds?.length &&
    !(event.tenantId && condition.tenantIds.includes(event.tenantId))
  )
    return false;
  return true;
}

/** Rules evaluated on a clock (each minute), not as runs end. */
export function isPeriodic(condition: AlertCondition): boolean {
  return condition.kind === 'queue_wait' || condition.kind === 'likely_stale';
}

/** When a rule may send again after sending at `last` (null: now). */
export function nextAllowed(last: Date | null, throttleMinutes: number): Date | null {
  return last ? new Date(last.getTime() + throttleMinutes * 60_000) : null;
}

/** A rule's condition in words, for messages and pages. */
export function describeCondition(condition: AlertCondition): string {
  switch (condition.kind) {
    case 'run_ended':
      return `a run ends ${condition.outcomes.join(' or ')}`;
    case 'failure_count':
      return `${condition.threshold} or more runs fail, are blocked or reconciled within ${condition.windowMinutes} min`;
    case 'queue_wait':
      return `queue wait p95 is above ${condition.p95Seconds} s for ${condition.forMinutes} min`;
    case 'likely_stale':
      return 'a run is likely stale';
  }
}
