import type { ListBucket } from './buckets.js';

/**
 * The time windows numbers are counted in. ONE column for every window: a run is in a window when
 * it was created in it — the column the list is ordered and paged by — so a dashboard tile, the
 * list it opens and the header's hint count the same rows.
 */
export const WINDOW_COLUMN = 'created_at';

export const RANGES = {
  '24h': 24 * 3600_000,
  '7d': 7 * 24 * 3600_000,
  '30d': 30 * 24 * 3600_000,
  '90d': 90 * 24 * 3600_000,
} as const;
export type Range = keyof typeof RANGES;

/** The list's window when a request names none (DESIGN §11: last 30 days). */
export const DEFAULT_RANGE: Range = '30d';

/**
 * Where a window of `range` starts at `now`: runs created at or after it are in it. Windows start
 * on a whole minute, as the list page rounds its own `from`, so a tile and the list it opens
 * (two requests, moments apart) name the same instant.
 */
export function windowStart(range: Range, now: Date): Date {
  return new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS - RANGES[range]);
}

const MINUTE_MS = 60_000;

/**
 * Each dashboard tile (DESIGN §11 summary) with the list bucket and range it opens: the tile's
 * number is the count of exactly that list.
 */
export const SUMMARY_TILES = {
  activeFresh: { bucket: 'active', range: '30d' },
  activeStale: { bucket: 'active_stale', range: '30d' },
  reconciled24h: { bucket: 'reconciled', range: '24h' },
  followUp7d: { bucket: 'terminal_follow_up', range: '7d' },
  succeeded7d: { bucket: 'succeeded', range: '7d' },
} as const satisfies Record<string, { bucket: ListBucket; range: Range }>;
export type SummaryTiles = typeof SUMMARY_TILES;
export type SummaryKey = keyof SummaryTiles;
