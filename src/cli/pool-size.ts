import type { Config } from '../config.js';

/** Connections per process pool when RUNWARDEN_DB_POOL_SIZE is unset (and the process needs no more). */
export const DEFAULT_POOL_SIZE = 10;

/**
 * What a pool needs beside one connection per job slot of the queue: graphile-worker's LISTEN
 * connection, and two for a reconciler sweep (the transaction holding its lock plus the one that
 * ends a run). Every job slot takes one connection to fetch, record and complete its job, the
 * handler's ledger writes included, so a pool of `concurrency + 3` never makes a slot wait.
 */
export const WORKER_EXTRA = 3;

/** The API's live stream holds one LISTEN connection of the pool; requests need at least one more. */
export const API_EXTRA = 2;

/** One-shot commands (seed-demo, reconcile, prune, pause/resume) use at most an advisory-lock session and one more. */
const ONE_SHOT_MAX = 3;

export type ProcessKind =
  | 'serve'
  | 'worker'
  | 'start'
  | 'seed-demo'
  | 'reconcile'
  | 'prune'
  | 'flow';

/**
 * The pool size of a process (README "Connection budget"):
 * - `serve`: RUNWARDEN_DB_POOL_SIZE (default 10); at least 4 (stream LISTEN, a sweep's two, a request);
 * - `worker --concurrency N`: at least N + 3; unset, max(10, N + 3);
 * - `start` (API and a worker of concurrency N in one pool): at least N + 5; unset, max(10, N + 5);
 * - one-shot commands: at most 3.
 * An explicit size below the minimum fails at once with the rule, rather than starving the queue.
 */
export function poolSize(config: Config, kind: ProcessKind, concurrency = 0): number {
  const configured = config.dbPoolSize;
  if (kind === 'seed-demo' || kind === 'reconcile' || kind === 'prune' || kind === 'flow')
    return Math.min(configured ?? DEFAULT_POOL_SIZE, ONE_SHOT_MAX);
  const needed =
    kind === 'serve'
      ? API_EXTRA + 2
      : kind === 'worker'
        ? concurrency + WORKER_EXTRA
        : concurrency + WORKER_EXTRA + API_EXTRA;
  if (configured === undefined) return Math.max(DEFAULT_POOL_SIZE, needed);
  if (configured < needed) throw new Error(tooSmall(configured, kind, concurrency, needed));
  return configured;
}

function tooSmall(configured: number, kind: ProcessKind, concurrency: number, needed: number) {
  const why =
    kind === 'serve'
      ? 'the API needs one connection for the live stream, two for a reconciler sweep and one for requests'
      : `a worker needs one connection per job slot (--concurrency ${concurrency}) plus ${WORKER_EXTRA} ` +
        "(the queue's LISTEN connection and a reconciler sweep's two)" +
        (kind === 'start' ? `, and the API ${API_EXTRA} more (the live stream and requests)` : '');
  const fix = kind === 'worker' ? ' or lower --concurrency' : '';
  return (
    `RUNWARDEN_DB_POOL_SIZE=${configured} is too small for \`runwarden ${kind}\`: ${why}, ` +
    `so at least ${needed}. Raise RUNWARDEN_DB_POOL_SIZE${fix}.`
  );
}
