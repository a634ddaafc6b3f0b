import type { RunContext, RunResult } from '../execution/operation.js';

export interface SimulationSettings {
  /** Multiplies every simulated duration (0 makes the demo instant; RUNWARDEN_DEMO_SPEED). */
  durationScale: number;
  /** Chance that an attempt throws a transient error (RUNWARDEN_DEMO_ERROR_RATE). */
  errorRate: number;
  /** Chance that an item fails, making the run partially succeed (RUNWARDEN_DEMO_PARTIAL_RATE). */
  partialRate: number;
}

export function simulationFromEnv(env: NodeJS.ProcessEnv = process.env): SimulationSettings {
  const num = (value: string | undefined, fallback: number) => {
    const n = Number(value);
    return value !== undefined && Number.isFinite(n) && n >= 0 ? n : fallback;
  };
  return {
    durationScale: num(env.RUNWARDEN_DEMO_SPEED, 1),
    errorRate: Math.min(num(env.RUNWARDEN_DEMO_ERROR_RATE, 0.05), 1),
    partialRate: Math.min(num(env.RUNWARDEN_DEMO_PARTIAL_RATE, 0.1), 1),
  };
}

/** Sleeps `ms`, resolving early (and rejecting) when the signal aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Simulated work over `items` in steps: progress as it goes, an occasional transient error, and
 * some failed items (a partial success), all scaled by the settings.
 */
export async function simulateItems(
  ctx: RunContext,
  settings: SimulationSettings,
  work: { items: number; msPerItem: number; countKey: string },
): Promise<RunResult> {
  if (Math.random() < settings.errorRate) {
    await pause(work.msPerItem * settings.durationScale, ctx.signal);
    throw Object.assign(
      new Error('The upstream API answered 503 Service Unavailable; will retry.'),
      {
        code: 'upstream.unavailable',
      },
    );
  }
  const steps = Math.min(work.items, 10);
  const perStep = Math.ceil(work.items / steps);
  let processed = 0;
  let failed = 0;
  for (let step = 0; step < steps; step++) {
    await pause(perStep * work.msPerItem * settings.durationScale, ctx.signal);
    const batch = Math.min(perStep, work.items - processed);
    const batchFailed = Math.random() < settings.partialRate ? 1 : 0;
    processed += batch;
    failed += batchFailed;
    await ctx.progress({ processed, total: work.items });
  }
  const counts = { [work.countKey]: processed - failed, failed };
  if (failed === 0) return { outcome: 'succeeded', counts };
  return {
    outcome: 'partially_succeeded',
    counts,
    failures: [
      { code: 'item.failed', message: `${failed} of ${processed} items could not be processed.` },
    ],
  };
}
