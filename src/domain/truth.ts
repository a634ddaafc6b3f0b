import type { LifecyclePolicy } from './lifecycle.js';
import { isReasonCode } from './reason-codes.js';
import { REASON_COPY } from './reason-copy.js';
import type { Reconciliation, RunFailure, RunOutcome, RunStatus } from './run.js';
import {
  type Bucket,
  bucketOf,
  CLASS_TONE,
  type ClassTone,
  PROBLEM_CLASS,
  type ProblemClass,
} from './run-classes.js';
import { staleness } from './staleness.js';
import type { Waiting, WaitingKind } from './waiting.js';
import { waitingCopy } from './waiting-copy.js';

export type { Bucket, ClassTone, ProblemClass } from './run-classes.js';
export { type Staleness, staleness } from './staleness.js';

/** The facts about a run that its truth depends on (a `RunRow` satisfies this). */
export interface RunFacts {
  status: RunStatus;
  outcome: RunOutcome;
  created_at: Date;
  started_at: Date | null;
  last_heartbeat_at: Date | null;
  progress_processed: number | null;
  progress_total: number | null;
  failures: RunFailure[];
  reconciliation: Reconciliation | null;
  cancel_requested_at: Date | null;
  /** Platform staff marked the terminal run reviewed (optional for callers that lack it). */
  reviewed_at?: Date | null;
  /** Held by flow control (DESIGN §17): never stale while held. Absent: false. */
  held?: boolean;
  /** When flow control admitted it: its queued window counts from here. */
  eligible_at?: Date | null;
  /** A fleet's parent (DESIGN §19): its progress is its children's. Absent: false. */
  fleet?: boolean;
  summary_counts?: Record<string, number>;
}

export type Tone = 'neutral' | 'info' | 'success' | 'warning' | 'danger';

export interface Truth {
  problemClass: ProblemClass;
  /** Which list bucket the run belongs to (the API's `bucket` filter uses the same words). */
  bucket: Bucket;
  /** The class's one tone (`CLASS_TONE`): what a surface colours the run's state in. */
  tone: ClassTone;
  headline: string;
  guidance: string;
  badges: Array<{ label: string; tone: Tone }>;
  progress:
    | { kind: 'none' }
    | { kind: 'spinner' }
    | { kind: 'bar'; processed: number; total: number; percent: number };
  /** The detail page's decision zone. */
  decision: { stillActive: string; whatNext: string };
  /**
   * A silent run's deadline: Runwarden marks it failed `at` (ISO 8601) unless it reports. `copy`
   * says so with `{time}` where a surface puts `at` in the reader's clock (the server does not know
   * the reader's zone). Null when none is ahead.
   */
  deadline: { at: string; copy: string } | null;
  /**
   * Why a queued run waits (DESIGN §17), null unless it is queued within its window. `at` (ISO
   * 8601) is what `{time}` in the headline stands for, which a surface writes in the reader's
   * clock, as for the deadline: when a pause began, or when a scheduled run starts.
   */
  waiting: { kind: WaitingKind; at: string | null } | null;
}

/** The words of a deadline; `{time}` is for the surface to fill in. */
export const DEADLINE_COPY = 'It will be marked failed at {time} unless it reports.';

const STALE_HEADLINE = 'Past the lifecycle window. Review worker health and logs before retrying.';

export interface TruthOptions {
  execution?: 'queue' | 'external';
  /** The type as people read it ("Inventory sync"); the waiting copy names it. */
  label?: string;
  /** Why a queued run waits (src/domain/waiting.ts); absent: for a worker. */
  waiting?: Waiting;
}

/**
 * The single source of what a person sees about a run (DESIGN §6). Which class the run is in is
 * decided by `bucketOf` (src/domain/run-classes.ts), the rule every list, count and summary uses.
 */
export function deriveTruth(
  run: RunFacts,
  policy: LifecyclePolicy,
  now: Date,
  options: TruthOptions = {},
): Truth {
  const bucket = bucketOf(run, policy, now);
  if (bucket === 'active' || bucket === 'active_stale') {
    return toned(activeTruth(run, policy, now, options));
  }
  const truth = terminalTruth(run, bucket);
  if (run.reviewed_at && truth.problemClass !== 'none') {
    truth.badges.push({ label: 'Reviewed', tone: 'neutral' });
  }
  return toned(truth);
}

/** A truth before its tone, which only the class decides (`CLASS_TONE`), its deadline and wait. */
type Untoned = Omit<Truth, 'tone' | 'deadline' | 'waiting'> &
  Partial<Pick<Truth, 'deadline' | 'waiting'>>;

function toned(truth: Untoned): Truth {
  return { deadline: null, waiting: null, ...truth, tone: CLASS_TONE[truth.bucket] };
}

function terminalTruth(run: RunFacts, bucket: Exclude<Bucket, 'active' | 'active_stale'>): Untoned {
  if (bucket === 'reconciled') {
    const why =
      run.reconciliation && isReasonCode(run.reconciliation.reasonCode)
        ? REASON_COPY[run.reconciliation.reasonCode].operator
        : '';
    return {
      problemClass: PROBLEM_CLASS.reconciled,
      bucket,
      headline: 'Automatically marked failed: no progress within the lifecycle window.',
      guidance:
        `${why} Check the worker's logs for this run, then start it again if it is still needed.`.trim(),
      badges: [
        { label: 'Failed', tone: 'danger' },
        { label: 'Reconciled', tone: 'warning' },
      ],
      progress: { kind: 'none' },
      decision: {
        stillActive: 'No. Runwarden ended it: nothing was progressing.',
        whatNext: 'Check the worker logs, then retry if still needed.',
      },
    };
  }
  switch (run.outcome) {
    case 'succeeded':
      return done('succeeded', 'Succeeded', 'success', 'Nothing to do.');
    case 'cancelled':
      return done(
        'cancelled',
        'Cancelled',
        'neutral',
        'Nothing to do. Start it again if it is still needed.',
      );
    case 'blocked':
      return followUp(
        'Blocked',
        'warning',
        reason(run, 'The operation reported that it could not proceed.'),
        'Resolve what blocked it (tenant or permissions), then start it again.',
      );
    case 'partially_succeeded':
      // Never an attempt's reason (an earlier attempt's error or timeout is not why it ended so),
      // never the handler's own words: those are listed under Failures.
      return followUp(
        'Partially succeeded',
        'warning',
        'Some of its work failed.',
        'Review the failed items under Failures; retry them if needed.',
      );
    default: {
      // failed (a completed run always has a terminal outcome: a database check guarantees it)
      const why = reason(run, 'The operation reported a failure.');
      return followUp(
        'Failed',
        'danger',
        why,
        isReasonCode(run.failures.at(-1)?.code ?? '')
          ? 'Fix the cause shown here, then start it again.'
          : 'Fix the cause listed under Failures, then start it again.',
      );
    }
  }
}

function activeTruth(
  run: RunFacts,
  policy: LifecyclePolicy,
  now: Date,
  options: TruthOptions,
): Untoned {
  const execution = options.execution ?? 'queue';
  const stale = staleness(run, policy, now);
  const statusBadge = {
    label: run.status === 'queued' ? 'Queued' : 'Running',
    tone: 'info' as const,
  };
  if (stale.stale) {
    const minutes = Math.max(1, Math.round(stale.sinceSeconds / 60));
    const failsAt = stale.reason === 'run.heartbeat_lost' ? silentDeadline(stale, now) : undefined;
    const guidance =
      stale.reason === 'run.heartbeat_lost'
        ? `The worker stopped reporting ${minutes} min ago.${failsAt ? '' : ' Runwarden marks it failed at its next check unless it reports.'}`
        : stale.reason === 'run.stale_queued'
          ? `Nothing has picked it up for ${minutes} min. Check that ${execution === 'external' ? 'the external system is' : 'workers are'} running.`
          : `It has run for ${minutes} min, longer than its lifecycle window allows.`;
    return {
      ...(failsAt ? { deadline: { at: failsAt, copy: DEADLINE_COPY } } : {}),
      problemClass: 'active_stale',
      bucket: 'active_stale',
      headline: STALE_HEADLINE,
      guidance,
      // Never the calm "Running"/"Queued" badge: the run is probably not doing anything.
      badges: [{ label: 'Likely stale', tone: 'warning' }],
      progress: { kind: 'none' },
      decision: {
        stillActive: 'Probably not: no progress within the lifecycle window.',
        whatNext: guidance,
      },
    };
  }
  const cancelBadge: Truth['badges'] = run.cancel_requested_at
    ? [{ label: 'Cancel requested', tone: 'warning' }]
    : [];
  if (run.fleet) return fleetTruth(run, [statusBadge, ...cancelBadge]);
  if (run.status === 'queued') {
    if (execution === 'external') {
      return {
        problemClass: 'none',
        bucket: 'active',
        headline: 'Queued — waiting for the external system to start it.',
        guidance: 'No action needed. It starts as soon as it is picked up.',
        badges: [statusBadge, ...cancelBadge],
        progress: { kind: 'none' },
        decision: { stillActive: 'Yes, waiting to be picked up.', whatNext: 'Nothing yet.' },
      };
    }
    // A held run is never stale, so every wait reads calm: why it waits, never "likely stale".
    const copy = waitingCopy(options.waiting ?? { kind: 'worker' }, options.label, now);
    return {
      problemClass: 'none',
      bucket: 'active',
      headline: copy.headline,
      guidance: copy.guidance,
      badges: [{ label: copy.badge, tone: 'info' }, ...cancelBadge],
      progress: { kind: 'none' },
      decision: copy.decision,
      waiting: { kind: copy.kind, at: copy.at ? copy.at.toISOString() : null },
    };
  }
  const badges: Truth['badges'] = [statusBadge, ...cancelBadge];
  const total = run.progress_total;
  const processed = run.progress_processed;
  const determinate = total !== null && total > 0 && processed !== null;
  const percent = determinate ? Math.min(100, Math.floor((processed / total) * 100)) : 0;
  return {
    problemClass: 'none',
    bucket: 'active',
    headline: determinate
      ? `${processed} / ${total} processed (${percent}%)`
      : 'Running — progress details pending.',
    guidance: run.cancel_requested_at
      ? 'Cancel requested: it stops at its next check.'
      : 'No action needed.',
    badges,
    progress: determinate ? { kind: 'bar', processed, total, percent } : { kind: 'spinner' },
    decision: { stillActive: 'Yes, a worker is on it and reporting.', whatNext: 'Nothing yet.' },
  };
}

/** An active fleet parent: how many of its tenants are done, and how many of those did not succeed. */
function fleetTruth(run: RunFacts, badges: Truth['badges']): Untoned {
  const total = run.progress_total ?? 0;
  const processed = run.progress_processed ?? 0;
  const succeeded = run.summary_counts?.succeeded ?? 0;
  const notSucceeded = processed - succeeded;
  const percent = total > 0 ? Math.min(100, Math.floor((processed / total) * 100)) : 0;
  return {
    problemClass: 'none',
    bucket: 'active',
    headline: `${processed} of ${total} tenants done${notSucceeded > 0 ? `, ${notSucceeded} did not succeed` : ''}`,
    guidance: run.cancel_requested_at
      ? 'Cancel requested: queued tenants were cancelled; running ones stop at their next check.'
      : 'No action needed. It completes when its last tenant does.',
    badges,
    progress: total > 0 ? { kind: 'bar', processed, total, percent } : { kind: 'spinner' },
    decision: {
      stillActive: `Yes, ${total - processed} tenant run(s) have not finished.`,
      whatNext: 'Nothing yet. Each tenant run has its own page.',
    },
  };
}

/**
 * When a run whose heartbeat is lost is marked failed: one loss window after it went stale. A
 * reconciler that watched throughout does it at once; one that was not watching (it just started,
 * or its database was away) first waits a loss window, as heartbeats may not have landed. Undefined
 * once that is past: the next check does it.
 */
function silentDeadline(stale: { sinceSeconds: number; thresholdSeconds: number }, now: Date) {
  const ahead = 2 * stale.thresholdSeconds - stale.sinceSeconds;
  return ahead > 0 ? new Date(now.getTime() + ahead * 1000).toISOString() : undefined;
}

function done(
  bucket: 'succeeded' | 'cancelled',
  label: string,
  tone: Tone,
  guidance: string,
): Untoned {
  return {
    problemClass: 'none',
    bucket,
    headline: label,
    guidance,
    badges: [{ label, tone }],
    progress: { kind: 'none' },
    decision: { stillActive: 'No, it finished.', whatNext: guidance },
  };
}

function followUp(label: string, tone: Tone, why: string, guidance: string): Untoned {
  return {
    problemClass: 'terminal_follow_up',
    bucket: 'terminal_follow_up',
    headline: why ? `${label} — ${why}` : label,
    guidance,
    badges: [{ label, tone }],
    progress: { kind: 'none' },
    decision: { stillActive: 'No, it finished and needs follow-up.', whatNext: guidance },
  };
}

/**
 * Why the run ended, in operator words: fixed copy for our reason codes, else `otherwise`. A
 * handler's own message (which may say "will retry", name internals, …) is never a headline: it
 * stays in the failures list and diagnostics.
 */
function reason(run: RunFacts, otherwise: string): string {
  const last = run.failures.at(-1);
  if (!last) return '';
  return isReasonCode(last.code) ? REASON_COPY[last.code].operator : otherwise;
}
