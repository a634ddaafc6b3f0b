import type { RunResult } from './operation.js';

/** Why the wrapper stopped waiting for a handler. */
export type StopReason = 'timeout' | 'cancel' | 'shutdown';

export const GRACE_OVER = Symbol('grace over');

/**
 * How long the wrapper still waits for a handler after aborting its signal (timeout, cancel,
 * shutdown). A handler that obeys `ctx.signal` and settles within it has stopped cooperatively:
 * that is the run's result (cancelled / queue.timeout / handed back), not a late completion.
 * Only a handler that ignores the signal past this grace is "late" (DESIGN §7.5).
 */
export const STOP_GRACE_MS = 2_000;
export type Settled = { ok: true; result: RunResult } | { ok: false; error: unknown };

/** The handler's settlement if it comes within the stop grace, else GRACE_OVER. */
export async function withinGrace(handler: Promise<Settled>): Promise<Settled | typeof GRACE_OVER> {
  let timer: NodeJS.Timeout | undefined;
  const over = new Promise<typeof GRACE_OVER>((resolve) => {
    timer = setTimeout(() => resolve(GRACE_OVER), STOP_GRACE_MS);
  });
  try {
    return await Promise.race([handler, over]);
  } finally {
    clearTimeout(timer);
  }
}
