import { RunwardenError } from './errors.js';

export type SummaryCounts = Record<string, number>;

export const MAX_COUNT_KEYS = 64;
const KEY_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * `summary_counts` hold non-negative safe integers under short snake_case keys, nothing else,
 * so every surface can sum and compare them without guessing. Throws `invalid_counts` naming
 * the first offending key.
 */
export function validateCounts(value: unknown): SummaryCounts {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('counts must be an object of non-negative integers');
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_COUNT_KEYS) {
    throw invalid(`counts may hold at most ${MAX_COUNT_KEYS} keys, got ${entries.length}`);
  }
  const counts: SummaryCounts = {};
  for (const [key, count] of entries) {
    if (!KEY_PATTERN.test(key)) {
      throw invalid(`count key "${truncate(key)}" must match [a-z][a-z0-9_]{0,63}`, key);
    }
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      throw invalid(`count "${key}" must be a non-negative integer, got ${describe(count)}`, key);
    }
    counts[key] = count;
  }
  return counts;
}

function invalid(message: string, key?: string): RunwardenError {
  return new RunwardenError('invalid_counts', message, key ? { details: { key } } : {});
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `the string "${truncate(value)}"`;
  if (value === null) return 'null';
  return `a ${Array.isArray(value) ? 'array' : typeof value}`;
}
