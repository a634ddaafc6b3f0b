import { RunwardenError } from './errors.js';

/**
 * The list's search (DESIGN §18), as values the read model turns into indexed SQL: a run id or
 * the first ≥ 8 characters of one, a tag, values in the input, a failure code.
 */
export interface RunSearch {
  /** A run id's first hex digits (8–32, dashes dropped); 32 is one whole id. */
  idPrefix?: string;
  tag?: string;
  /** Each: the input holds `value` at `path` (as text, or as the number/boolean it spells). */
  input?: ReadonlyArray<{ path: readonly string[]; value: string }>;
  failureCode?: string;
  /** The runs that run this one again (`rerunOf`). */
  rerunOf?: string;
}

/** At most this many `input.<path>=` filters at once, each path this deep. */
export const MAX_INPUT_FILTERS = 5;
const MAX_PATH_DEPTH = 6;
const PATH_PART = /^[A-Za-z0-9_-]{1,64}$/;

/** A run id or its prefix as hex digits, or a clear 400. */
export function idPrefixOf(q: string): string {
  const hex = q.trim().replaceAll('-', '').toLowerCase();
  if (!/^[0-9a-f]{8,32}$/.test(hex)) {
    throw new RunwardenError(
      'validation_failed',
      'q is a run id or its first 8 or more characters (0-9, a-f).',
      { details: { q } },
    );
  }
  return hex;
}

/** The lowest and highest ids with this prefix: a range the primary key answers. */
export function idRange(prefix: string): [string, string] {
  const pad = (digit: string) => formatUuid(prefix.padEnd(32, digit));
  return [pad('0'), pad('f')];
}

function formatUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `input.<a>.<b>=<value>` query parameters (any others are not this function's). */
export function inputFilters(query: Record<string, unknown>): RunSearch['input'] {
  const filters = Object.entries(query)
    .filter(([key]) => key.startsWith('input.'))
    .map(([key, raw]) => {
      const path = key.slice('input.'.length).split('.');
      const value = Array.isArray(raw) ? raw.at(-1) : raw;
      if (path.length > MAX_PATH_DEPTH || !path.every((p) => PATH_PART.test(p))) {
        throw searchError(`${key}: a path of up to ${MAX_PATH_DEPTH} names (letters, digits, _ -)`);
      }
      if (typeof value !== 'string' || value.length > 200) {
        throw searchError(`${key}: a value of at most 200 characters`);
      }
      return { path, value };
    });
  if (filters.length > MAX_INPUT_FILTERS) {
    throw searchError(`at most ${MAX_INPUT_FILTERS} input filters at once`);
  }
  return filters.length ? filters : undefined;
}

/**
 * The input documents that match one filter: the value as text, and as the JSON scalar it spells
 * ("42" also finds 42, "true" finds true), each as a containment the input's index answers.
 */
export function inputDocuments(filter: { path: readonly string[]; value: string }): string[] {
  const nest = (leaf: unknown) =>
    JSON.stringify(filter.path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), leaf));
  const documents = [nest(filter.value)];
  const scalar = parseScalar(filter.value);
  if (scalar !== undefined) documents.push(nest(scalar));
  return documents;
}

function parseScalar(value: string): number | boolean | null | undefined {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value === 'null') return null;
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

function searchError(message: string): RunwardenError {
  return new RunwardenError('validation_failed', message);
}
