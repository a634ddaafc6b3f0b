/**
 * The one catalog of error codes our code raises on purpose. The HTTP edge maps each code to a
 * status in one place; everything else surfaces as `internal`.
 */
export const ERROR_CODES = [
  'validation_failed',
  'unknown_type',
  'invalid_input',
  'tenant_inactive',
  'invalid_counts',
  'invalid_progress',
  'not_found',
  'conflict',
  'enqueue_failed',
  'database_unavailable',
  'unauthenticated',
  'forbidden',
  'invalid_cursor',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class RunwardenError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'RunwardenError';
    this.code = code;
    this.details = options.details;
  }
}
