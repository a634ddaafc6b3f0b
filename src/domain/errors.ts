/** One entry of the error catalog. */
export interface ErrorEntry {
  /** The HTTP status the API answers with (a plain number: the domain knows no HTTP library). */
  readonly status: number;
  /** What the API says when the raiser gives no message of its own. */
  readonly message: string;
  /** Seconds a client should wait before retrying, sent as `Retry-After`. */
  readonly retryAfterSeconds?: number;
}

/**
 * The one error catalog (DESIGN §11): every code the API answers `{error:{code,message,details?}}`
 * with, its status and its default message. Our code raises these as `RunwardenError`; the HTTP edge
 * classifies anything else (schema validation, Fastify's own refusals, an outage, a bug) to one of
 * them and renders it from here. A new code is one line here, nowhere else.
 */
export const ERROR_CATALOG = {
  validation_failed: { status: 400, message: 'The request does not match the API schema.' },
  invalid_cursor: { status: 400, message: 'The cursor is not one this API issued.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  bad_url: { status: 400, message: 'The request path is not valid.' },
  bad_request: { status: 400, message: 'The request is not valid.' },
  unauthenticated: { status: 401, message: 'Log in or send an API token.' },
  forbidden: { status: 403, message: 'You do not have the permission for this.' },
  csrf_invalid: {
    status: 403,
    message: 'Send the x-csrf-token header you got at login with each change.',
  },
  invite_invalid: {
    status: 400,
    message: 'This invite link is unknown, used, expired or revoked: ask for a new one.',
  },
  not_found: { status: 404, message: 'Not found.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  tenant_inactive: { status: 409, message: 'The tenant is inactive.' },
  payload_too_large: { status: 413, message: 'The request body is larger than 1 MiB.' },
  unsupported_media_type: { status: 415, message: 'Send JSON (Content-Type: application/json).' },
  unknown_type: { status: 422, message: 'No operation type has that name.' },
  invalid_input: { status: 422, message: "The input does not match the operation type's schema." },
  invalid_counts: { status: 422, message: 'The counts are not valid.' },
  invalid_progress: { status: 422, message: 'The progress is not valid.' },
  rate_limited: { status: 429, message: 'Too many requests; wait a minute and try again.' },
  internal: { status: 500, message: 'Something went wrong on our side.' },
  enqueue_failed: { status: 503, message: 'The run could not be queued; retry shortly.' },
  database_unavailable: {
    status: 503,
    message: 'The database is unreachable; retry shortly.',
    retryAfterSeconds: 5,
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class RunwardenError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    message: string = ERROR_CATALOG[code].message,
    options: { details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'RunwardenError';
    this.code = code;
    this.details = options.details;
  }
}
