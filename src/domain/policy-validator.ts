import { DEFAULT_POLICY, type LifecyclePolicy } from './lifecycle.js';

/** Seconds between a handler's timeout and the point the reconciler may call its run abandoned. */
export const SAFETY_MARGIN_SECONDS = 30;
/** A healthy system picks a queued run up well within this; a shorter stale window misfires. */
export const MIN_QUEUED_STALE_SECONDS = 60;

const KNOWN_KEYS = new Set(Object.keys(DEFAULT_POLICY));

/** graphile-worker's retry delay after attempt n: exp(min(n, 10)) seconds. */
export function retryBackoffSeconds(retries: number): number {
  let total = 0;
  for (let attempt = 1; attempt <= retries; attempt++) total += Math.exp(Math.min(attempt, 10));
  return total;
}

/**
 * Checks one type's policy (DESIGN §5). Returns one message per problem, each naming the type,
 * the settings involved and their numbers; empty when the policy is sound.
 */
export function validatePolicy(type: string, policy: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(policy)) {
    if (!KNOWN_KEYS.has(key)) problems.push(`${type}: unknown lifecycle setting "${key}"`);
  }
  const p = { ...DEFAULT_POLICY, ...policy } as LifecyclePolicy;
  const positive = [
    'timeoutSeconds',
    'queuedStaleAfterSeconds',
    'runningStaleAfterSeconds',
    'heartbeatSeconds',
  ] as const;
  for (const key of positive) {
    if (typeof p[key] !== 'number' || !Number.isFinite(p[key]) || p[key] <= 0) {
      problems.push(`${type}: ${key} must be a positive number of seconds, got ${String(p[key])}`);
    }
  }
  if (!Number.isInteger(p.retries) || p.retries < 0) {
    problems.push(`${type}: retries must be a whole number ≥ 0, got ${String(p.retries)}`);
  }
  if (p.terminalTruth !== 'direct' && p.terminalTruth !== 'reconcile_only') {
    problems.push(
      `${type}: terminalTruth must be "direct" or "reconcile_only", got ${String(p.terminalTruth)}`,
    );
  }
  if (problems.length > 0) return problems; // the relations below need sane numbers

  if (p.timeoutSeconds + SAFETY_MARGIN_SECONDS >= p.runningStaleAfterSeconds) {
    problems.push(
      `${type}: timeoutSeconds (${p.timeoutSeconds}) + ${SAFETY_MARGIN_SECONDS} s margin must stay below ` +
        `runningStaleAfterSeconds (${p.runningStaleAfterSeconds}), or the reconciler races a handler about to time out`,
    );
  }
  if (3 * p.heartbeatSeconds >= p.runningStaleAfterSeconds) {
    problems.push(
      `${type}: 3 × heartbeatSeconds (${3 * p.heartbeatSeconds}) must stay below runningStaleAfterSeconds ` +
        `(${p.runningStaleAfterSeconds}), or a run is stale before three heartbeats could be missed`,
    );
  }
  if (p.queuedStaleAfterSeconds < MIN_QUEUED_STALE_SECONDS) {
    problems.push(
      `${type}: queuedStaleAfterSeconds (${p.queuedStaleAfterSeconds}) is shorter than the ` +
        `${MIN_QUEUED_STALE_SECONDS} s a healthy system may need to pick a run up`,
    );
  }
  const backoff = retryBackoffSeconds(p.retries);
  if (backoff >= p.queuedStaleAfterSeconds) {
    problems.push(
      `${type}: retries (${p.retries}) wait ${Math.round(backoff)} s in backoff, which outlives ` +
        `queuedStaleAfterSeconds (${p.queuedStaleAfterSeconds}): a run waiting for its retry would be reconciled`,
    );
  }
  return problems;
}
