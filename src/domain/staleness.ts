import type { LifecyclePolicy } from './lifecycle.js';
import type { RunStatus } from './run.js';

/** What the staleness rule reads of a run (a `RunRow` and `RunFacts` satisfy it). */
export interface StalenessFacts {
  status: RunStatus;
  created_at: Date;
  started_at: Date | null;
  last_heartbeat_at: Date | null;
  /** Waiting for admission (flow control): never stale while held. Absent: false. */
  held?: boolean;
  /** When flow control admitted it: its queued window counts from here. Absent: never admitted. */
  eligible_at?: Date | null;
  /** A fleet's parent (DESIGN §19): never stale itself; its children carry their own windows. */
  fleet?: boolean;
}

export type StaleReason = 'run.stale_queued' | 'run.heartbeat_lost' | 'run.stale_running';

export type Staleness =
  | { stale: false }
  | { stale: true; reason: StaleReason; thresholdSeconds: number; sinceSeconds: number };

/** The three lifecycle windows of a policy, in seconds. */
export function staleWindows(policy: LifecyclePolicy) {
  return {
    queued: policy.queuedStaleAfterSeconds,
    lost: 3 * policy.heartbeatSeconds,
    running: policy.runningStaleAfterSeconds,
  };
}

/**
 * The instant a window of `seconds` opened at `now`, rounded up to a whole millisecond: a stored
 * timestamp (microseconds in PostgreSQL, milliseconds once read into a Date) is before it in SQL
 * exactly when it is in JavaScript, so the SQL and JS forms of a class never disagree at an edge.
 */
export function windowOpened(now: Date, seconds: number): Date {
  return new Date(Math.ceil(now.getTime() - seconds * 1000));
}

/**
 * The one staleness rule (reconciler, summaries and every surface use it): a queued run is stale
 * past `queuedStaleAfterSeconds` since it became eligible (queued, or admitted by flow control,
 * DESIGN §17) or was last heard of, and never while flow control holds it; a running run when its last
 * heartbeat is older than 3 × `heartbeatSeconds`, or it has run past `runningStaleAfterSeconds`.
 * Exactly at a threshold is still fresh; a timestamp in the future (clock skew) counts as now.
 * `RUN_CLASSES.active_stale.sql` is the same rule in SQL.
 */
export function staleness(run: StalenessFacts, policy: LifecyclePolicy, now: Date): Staleness {
  const windows = staleWindows(policy);
  const past = (from: Date, reason: StaleReason, seconds: number): Staleness | undefined =>
    from.getTime() < windowOpened(now, seconds).getTime()
      ? {
          stale: true,
          reason,
          thresholdSeconds: seconds,
          sinceSeconds: Math.max(0, (now.getTime() - from.getTime()) / 1000),
        }
      : undefined;
  if (run.fleet) return { stale: false };
  if (run.status === 'queued') {
    if (run.held) return { stale: false };
    const since = latest(run.eligible_at ?? run.created_at, run.last_heartbeat_at);
    return past(since, 'run.stale_queued', windows.queued) ?? { stale: false };
  }
  if (run.status === 'running') {
    const silentSince = run.last_heartbeat_at ?? run.started_at ?? run.created_at;
    const ranSince = run.started_at ?? run.created_at;
    return (
      past(silentSince, 'run.heartbeat_lost', windows.lost) ??
      past(ranSince, 'run.stale_running', windows.running) ?? { stale: false }
    );
  }
  return { stale: false };
}

function latest(a: Date, b: Date | null): Date {
  return b && b.getTime() > a.getTime() ? b : a;
}
