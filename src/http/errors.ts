import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { ERROR_CATALOG, type ErrorCode, RunwardenError } from '../domain/errors.js';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** The error shape; `code` is one of the catalog's, so no response invents a code of its own. */
export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** 429 for a throttled attempt: `Too many <what>; try again in N s.`, with Retry-After. */
export function tooManyAttempts(reply: FastifyReply, retryAfterSeconds: number, what: string) {
  return reply
    .status(429)
    .header('retry-after', String(retryAfterSeconds))
    .send(errorBody('rate_limited', `Too many ${what}; try again in ${retryAfterSeconds} s.`));
}

/** Seconds a client should wait before retrying while the database is unreachable. */
export const RETRY_AFTER_SECONDS = ERROR_CATALOG.database_unavailable.retryAfterSeconds;

/** An error, classified: a catalog code, and what the catalog entry does not say for this one. */
interface Classified {
  code: ErrorCode;
  message?: string;
  details?: unknown;
  /** Only for Fastify's own refusals, which keep the status Fastify gave them. */
  status?: number;
}

/** Fastify's (and its plugins') own refusals, by their FST_* code. */
const FRAMEWORK_CODES = new Map<string, ErrorCode>([
  ['FST_ERR_CTP_BODY_TOO_LARGE', 'payload_too_large'],
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'unsupported_media_type'],
  ['FST_ERR_CTP_INVALID_JSON_BODY', 'invalid_json'],
  ['FST_CSRF_INVALID_TOKEN', 'csrf_invalid'],
  ['FST_CSRF_MISSING_SECRET', 'csrf_invalid'],
  // Router refusals: a bad percent-escape (400), an over-long path parameter (414).
  ['FST_ERR_BAD_URL', 'bad_url'],
  ['FST_ERR_MAX_PARAM_LENGTH', 'bad_url'],
  ['FST_ERR_ASYNC_CONSTRAINT', 'bad_url'],
]);

/** SQLSTATEs for text PostgreSQL cannot store (NUL, broken UTF-8/UTF-16) that slipped past the edge. */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

/** Whether `error` means "the database cannot be reached now", however it surfaced. */
function databaseUnavailable(error: Error): boolean {
  if (!(error instanceof RunwardenError)) return isDatabaseUnavailable(error);
  // A queue write that failed because the database went away is the outage, not a queue fault.
  return (
    error.code === 'database_unavailable' ||
    (error.code === 'enqueue_failed' && isDatabaseUnavailable(error.cause))
  );
}

/** SQLSTATE query_canceled: the statement outran its statement_timeout (or was cancelled). */
const STATEMENT_CANCELLED = '57014';

function classify(error: FastifyError | Error, requestId: string): Classified {
  if (databaseUnavailable(error)) return { code: 'database_unavailable' };
  // The database answered, but not in the time a request is given: "not now" too, never a 500.
  if ((error as { code?: unknown }).code === STATEMENT_CANCELLED) {
    return {
      code: 'database_unavailable',
      message: 'The database did not answer in time; retry shortly.',
    };
  }
  if (error instanceof RunwardenError) {
    return { code: error.code, message: error.message, details: error.details };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.map((v) => ({
      path: v.instancePath.replace(/^\//, '').replace(/\//g, '.'),
      message: v.message,
    }));
    return { code: 'validation_failed', details };
  }
  const { code, statusCode } = error as Partial<FastifyError>;
  const framework = code === undefined ? undefined : FRAMEWORK_CODES.get(code);
  if (framework) return { code: framework, status: statusCode };
  if (error instanceof SyntaxError && statusCode === 400) return { code: 'invalid_json' };
  if (code !== undefined && UNSTORABLE_TEXT.has(code)) {
    return {
      code: 'validation_failed',
      message: 'The request contains characters that cannot be stored.',
    };
  }
  if (statusCode === 429) return { code: 'rate_limited' };
  // Any other refusal of the framework or a plugin keeps its status and says what it said.
  if (statusCode && statusCode >= 400 && statusCode < 500) {
    return { code: 'bad_request', status: statusCode, message: error.message };
  }
  return {
    code: 'internal',
    message: `Something went wrong on our side; it has been logged as request ${requestId}.`,
  };
}

/**
 * Renders every error as `{error:{code,message,details?}}` from the catalog (src/domain/errors.ts);
 * never a 500 for bad input.
 */
export function handleError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const { code, message, details, status } = classify(error, request.id);
  const entry: { status: number; message: string; retryAfterSeconds?: number } =
    ERROR_CATALOG[code];
  if (code === 'database_unavailable') {
    // Warn without the stack: an outage produces one of these per request.
    request.log.warn({ reason: error.message }, 'database unavailable; answered 503');
  } else if (code === 'internal') {
    request.log.error({ err: error }, 'unhandled error');
  }
  if (entry.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(entry.retryAfterSeconds));
  }
  return reply
    .status(status ?? entry.status)
    .send(errorBody(code, message ?? entry.message, details));
}
