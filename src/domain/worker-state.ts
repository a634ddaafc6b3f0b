/**
 * A worker process is lost once this many of its beats go unseen: the workers page calls it
 * silent from then, and the reconciler declares it dead (marks its row stopped and releases its
 * queue locks) on its first sweep past the same mark.
 */
export const WORKER_LOST_BEATS = 3;

/** Rows written before migration 0016 carry no beat interval: read as the default 5 s beat. */
export const DEFAULT_WORKER_BEAT_MS = 5_000;

/**
 * `alive`: seen within its loss window. `silent`: not seen for longer, but not stopped: not yet
 * declared dead, or its beats may still come back. `stopped`: it stopped itself, or the
 * reconciler declared it dead (a stopped worker whose beats return is alive again: the beat
 * clears `stopped_at`).
 */
export type WorkerState = 'alive' | 'silent' | 'stopped';

/** What the rule reads of a `workers` row. */
export interface WorkerStateFacts {
  last_seen_at: Date;
  stopped_at: Date | null;
  heartbeat_ms: number | null;
}

/** How long a worker beating every `heartbeatMs` may go unseen and still be alive, ms. */
export function workerLossWindowMs(heartbeatMs: number | null): number {
  return WORKER_LOST_BEATS * (heartbeatMs ?? DEFAULT_WORKER_BEAT_MS);
}

/** The one rule for a worker's state (the workers route and page, and anything else). */
export function workerState(worker: WorkerStateFacts, now: Date): WorkerState {
  if (worker.stopped_at) return 'stopped';
  const unseenMs = now.getTime() - worker.last_seen_at.getTime();
  return unseenMs <= workerLossWindowMs(worker.heartbeat_ms) ? 'alive' : 'silent';
}
