import { RunwardenError } from '../domain/errors.js';

// The checks RunService makes around its statements: progress before it is written, and the
// database's counts constraint after, each as a RunwardenError a caller can act on.

/** PostgreSQL's integer: the progress columns' range. */
const MAX_PROGRESS = 2_147_483_647;

/** A progress report as it may be stored: whole counts in range, `processed` never past `total`. */
export function validateProgress(progress: { processed: number; total?: number | null }): {
  processed: number;
  total: number | null;
} {
  const { processed } = progress;
  const total = progress.total ?? null;
  const isCount = (n: unknown) =>
    typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_PROGRESS;
  if (!isCount(processed)) {
    throw new RunwardenError(
      'invalid_progress',
      `progress.processed must be an integer from 0 to ${MAX_PROGRESS}`,
    );
  }
  if (total !== null && !isCount(total)) {
    throw new RunwardenError(
      'invalid_progress',
      `progress.total must be an integer from 0 to ${MAX_PROGRESS}`,
    );
  }
  if (total !== null && processed > total) {
    throw new RunwardenError(
      'invalid_progress',
      `progress.processed (${processed}) exceeds progress.total (${total})`,
    );
  }
  return { processed, total };
}

/** The database's counts check (a merge past 64 keys or 2^53) surfaces as `invalid_counts`. */
export async function withCountsCheck<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const pgError = error as { code?: string; constraint?: string };
    if (pgError.code === '23514' && pgError.constraint === 'operation_runs_counts_check') {
      throw new RunwardenError('invalid_counts', 'the merged counts would exceed 64 keys or 2^53', {
        cause: error,
      });
    }
    throw error;
  }
}
