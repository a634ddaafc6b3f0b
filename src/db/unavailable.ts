// What "the database is unreachable right now" looks like from node-postgres, in one place: the
// API answers these with 503 `database_unavailable`, and the worker retries its writes on them.

/** SQLSTATEs that mean "not now": connection exceptions (class 08), shutdown, starting up, full. */
const UNAVAILABLE_STATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08007',
]);

const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'connection error and is not queryable',
  'timeout exceeded when trying to connect',
  // The client's query_timeout (src/db/pool.ts): no answer at all, not a slow statement. A
  // statement the server cancelled for its statement_timeout (57014) is not listed: the database
  // answered, the statement was too slow.
  'Query read timeout',
  'Client was closed and is not queryable',
  'the database system is',
];

/** Whether `error` (or what it wraps) says the database cannot be reached at the moment. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const e = error as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (
    typeof e.code === 'string' &&
    (UNAVAILABLE_STATES.has(e.code) || UNAVAILABLE_ERRNO.has(e.code))
  )
    return true;
  if (
    typeof e.message === 'string' &&
    UNAVAILABLE_MESSAGES.some((m) => (e.message as string).includes(m))
  )
    return true;
  // Node reports a refused dual-stack connect as an AggregateError of per-address errors.
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1)))
    return true;
  return e.cause !== undefined && isDatabaseUnavailable(e.cause, depth + 1);
}
