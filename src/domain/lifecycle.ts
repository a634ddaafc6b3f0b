/** Per-type lifecycle policy (DESIGN §5). Values in seconds unless named otherwise. */
export interface LifecyclePolicy {
  /** Handler deadline, enforced by the worker with an AbortSignal and a hard stop. */
  timeoutSeconds: number;
  /** Retries after the first attempt (0: one attempt only). */
  retries: number;
  /** A queued run older than this with no active job is stale. */
  queuedStaleAfterSeconds: number;
  /** A running run older than this is stale (our retry_after; must exceed timeout + margin). */
  runningStaleAfterSeconds: number;
  /** How often the worker reports life; 3 missed beats mean the worker is gone. */
  heartbeatSeconds: number;
  /**
   * `reconcile_only`: a returning handler never ends the run: the wrapper records its result as a
   * `handler_returned` event and the run stays active until the type's `reconcile(run)` adapter
   * (asked by the reconciler) or the reconciler declares the end. Needs an adapter (validated).
   */
  terminalTruth: 'direct' | 'reconcile_only';
}

/**
 * The port through which reads, truth and the reconciler learn a run type's policy (a type this
 * process does not know gets the defaults). The operation registry supplies it; the inner rooms
 * depend on this type, never on the registry.
 */
export type PolicyOf = (type: string) => LifecyclePolicy;

export const DEFAULT_POLICY: LifecyclePolicy = {
  timeoutSeconds: 600,
  retries: 2,
  queuedStaleAfterSeconds: 900,
  runningStaleAfterSeconds: 1200,
  heartbeatSeconds: 5,
  terminalTruth: 'direct',
};

export function resolvePolicy(
  overrides: Partial<LifecyclePolicy> = {},
  defaults = DEFAULT_POLICY,
): LifecyclePolicy {
  return { ...defaults, ...overrides };
}
