import type { Logger } from 'pino';
import { type Heartbeat, type HeartbeatSettings, startHeartbeat } from './heartbeat.js';
import type { StopReason } from './wrapper.js';

/** The in-flight set: every change reaches the heartbeat thread, which refreshes only these runs. */
export class InflightRuns extends Map<string, AbortController> {
  onChange: () => void = () => undefined;
  override set(runId: string, controller: AbortController): this {
    super.set(runId, controller);
    this.onChange();
    return this;
  }
  override delete(runId: string): boolean {
    const had = super.delete(runId);
    this.onChange();
    return had;
  }

  /** Aborts every handler still running, e.g. when the shutdown grace period is over. */
  abortAll(reason: StopReason): void {
    for (const controller of this.values()) controller.abort(reason);
  }
}

/**
 * Starts the worker's heartbeat thread for `inflight`: the thread refreshes exactly the runs in
 * flight, and a cancel it reads from the database aborts that run's handler.
 */
export function startInflightHeartbeat(
  inflight: InflightRuns,
  settings: HeartbeatSettings,
  logger: Logger,
  onFatal: (error: unknown) => void,
): Heartbeat {
  const heartbeat = startHeartbeat(
    settings,
    logger,
    (runIds) => {
      for (const runId of runIds) inflight.get(runId)?.abort('cancel' satisfies StopReason);
    },
    onFatal,
  );
  // Every change is written at once to the memory the thread reads when it beats (no message):
  // a run whose handler blocks this thread's event loop right away is already in it.
  inflight.onChange = () => heartbeat.setInflight([...inflight.keys()]);
  return heartbeat;
}
