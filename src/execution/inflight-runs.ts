import type { Logger } from 'pino';
import { type Heartbeat, startHeartbeat } from './heartbeat.js';
import type { StopReason } from './wrapper.js';

/** The in-flight set: every change goes to the heartbeat thread, which refreshes only these runs. */
export class InflightRuns extends Map<string, AbortController> {
  onChange: (change: 'added' | 'removed') => void = () => undefined;
  override set(runId: string, controller: AbortController): this {
    super.set(runId, controller);
    this.onChange('added');
    return this;
  }
  override delete(runId: string): boolean {
    const had = super.delete(runId);
    this.onChange('removed');
    return had;
  }

  /** Aborts every handler still running, e.g. when the shutdown grace period is over. */
  abortAll(reason: StopReason): void {
    for (const controller of this.values()) controller.abort(reason);
  }
}

/** How stale the heartbeat thread's copy of the in-flight set may be (beats are seconds apart). */
const INFLIGHT_SYNC_MS = 50;

/**
 * Starts the worker's heartbeat thread for `inflight`: the thread refreshes exactly the runs in
 * flight, and a cancel it reads from the database aborts that run's handler.
 */
export function startInflightHeartbeat(
  inflight: InflightRuns,
  settings: { databaseUrl: string; workerId: string; intervalMs: number },
  logger: Logger,
): Heartbeat {
  const heartbeat = startHeartbeat(settings, logger, (runIds) => {
    for (const runId of runIds) inflight.get(runId)?.abort('cancel' satisfies StopReason);
  });
  // A run that starts is sent at once (its handler may block this thread's event loop right
  // away, and the heartbeat thread must beat for it); runs that end are sent at most once per
  // INFLIGHT_SYNC_MS: a message per change was a measurable share of a short run's cost, and a
  // beat never touches a run that is no longer running anyway.
  let pending: NodeJS.Timeout | undefined;
  const send = () => {
    clearTimeout(pending);
    pending = undefined;
    heartbeat.setInflight([...inflight.keys()]);
  };
  inflight.onChange = (change) => {
    if (change === 'added') send();
    else pending ??= setTimeout(send, INFLIGHT_SYNC_MS);
  };
  return {
    ...heartbeat,
    async stop() {
      clearTimeout(pending);
      await heartbeat.stop();
    },
  };
}
