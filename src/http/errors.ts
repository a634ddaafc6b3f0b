import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { type ErrorCode, RunwardenError } from '../domain/errors.js';

/** The one mapping from our error codes to HTTP statuses (DESIGN §11). */
const STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  unknown_type: 422,
  invalid_input: 422,
  tenant_inactive: 409,
  invalid_counts: 422,
  invalid_progress: 422,
  not_found: 404,
  conflict: 409,
  enqueue_failed: 503,
  database_unavailable: 503,
  unauthenticated: 401,
  forbidden: 403,
  invalid_cursor: 400,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Seconds a client should wait before retrying while the database is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

/** Whether `error` means "the database cannot be reached now", however it surfaced. */
function databaseUnavailable(error: Error): boolean {
  if (!(error instanceof RunwardenError)) return isDatabaseUnavailable(error);
  // A queue write that failed because the database went away is the outage, not a queue fault.
  return (
    error.code === 'database_unavailable' ||
    (error.code === 'enqueue_failed' && isDatabaseUnavailable(error.cause))
  );
}

/** Renders every error as `{error:{code,message,details?}}`; never a 500 for bad input. */
export function handleError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (databaseUnavailable(error)) {
    // Warn without the stack: an outage produces one of these per request.
    request.log.warn({ reason: error.message }, 'database unavailable; answered 503');
    return reply
      .status(503)
      .header('retry-after', String(RETRY_AFTER_SECONDS))
      .send(errorBody('database_unavailable', 'The database is unreachable; retry shortly.'));
  }
  if (error instanceof RunwardenError) {
    return reply
      .status(STATUS[error.code])
      .send(errorBody(error.code, error.message, error.details));
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.map((v) => ({
      path: v.instancePath.replace(/^\//, '').replace(/\//g, '.'),
      message: v.message,
    }));
    return reply
      .status(400)
      .send(errorBody('validation_failed', 'The request does not match the API schema.', details));
  }
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply
      .status(413)
      .send(errorBody('payload_too_large', 'The request body is larger than 1 MiB.'));
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return reply
      .status(415)
      .send(errorBody('unsupported_media_type', 'Send JSON (Content-Type: application/json).'));
  }
  if (
    code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    (error instanceof SyntaxError && (error as FastifyError).statusCode === 400)
  ) {
    return reply.status(400).send(errorBody('invalid_json', 'The request body is not valid JSON.'));
  }
  if (typeof code === 'string' && code.startsWith('FST_CSRF')) {
    return reply
      .status(403)
      .send(
        errorBody(
          'csrf_invalid',
          'Send the x-csrf-token header you got at login with each change.',
        ),
      );
  }
  // Backstop for text PostgreSQL cannot store (NUL, broken UTF-8/UTF-16) that slipped past the edge.
  const pgCode = (error as { code?: unknown }).code;
  if (pgCode === '22021' || pgCode === '22P05') {
    return reply
      .status(400)
      .send(
        errorBody('validation_failed', 'The request contains characters that cannot be stored.'),
      );
  }
  if (
    code === 'FST_ERR_BAD_URL' ||
    code === 'FST_ERR_MAX_PARAM_LENGTH' ||
    code === 'FST_ERR_ASYNC_CONSTRAINT'
  ) {
    return reply
      .status((error as FastifyError).statusCode ?? 400)
      .send(errorBody('bad_url', 'The request path is not valid.'));
  }
  const status = (error as FastifyError).statusCode;
  if (status === 429) {
    return reply
      .status(429)
      .send(errorBody('rate_limited', 'Too many requests; wait a minute and try again.'));
  }
  if (status && status >= 400 && status < 500) {
    return reply.status(status).send(errorBody('bad_request', error.message));
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply
    .status(500)
    .send(
      errorBody(
        'internal',
        `Something went wrong on our side; it has been logged as request ${request.id}.`,
      ),
    );
}
