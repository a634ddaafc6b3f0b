import { parseSearch } from './search-syntax';
import type { ListBucket } from './types';

/** The list page's filter state, as it appears in the URL (shareable links). */
export interface RunFilters {
  ws: string;
  bucket: ListBucket;
  type?: string;
  tenant?: string;
  initiator?: string;
  /** 24h | 7d | 30d | 90d */
  range: string;
  /** The search box's text (search-syntax.ts). */
  search?: string;
  /** Runs that ended in [endedFrom, endedTo): a chart's bar (ISO times); then `range` is unused. */
  endedFrom?: string;
  endedTo?: string;
}

export const RANGES: Record<string, { label: string; ms: number }> = {
  '24h': { label: 'Last 24 hours', ms: 24 * 3600_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 24 * 3600_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 24 * 3600_000 },
  '90d': { label: 'Last 90 days', ms: 90 * 24 * 3600_000 },
};

export const BUCKET_LABELS: Record<ListBucket, string> = {
  active: 'Active',
  active_stale: 'Likely stale',
  reconciled: 'Reconciled',
  terminal_follow_up: 'Needs follow-up',
  succeeded: 'Succeeded',
  all: 'All',
};

/** The buckets every list offers, in the order they are shown. */
export const LIST_BUCKETS: ListBucket[] = [
  'active',
  'active_stale',
  'reconciled',
  'terminal_follow_up',
  'succeeded',
  'all',
];

export function filtersFromSearch(search: URLSearchParams, defaultWs: string): RunFilters {
  const bucket = search.get('bucket') as ListBucket | null;
  return {
    ws: search.get('ws') || defaultWs,
    bucket: bucket && bucket in BUCKET_LABELS ? bucket : 'all',
    type: search.get('type') ?? undefined,
    tenant: search.get('tenant') ?? undefined,
    initiator: search.get('initiator') ?? undefined,
    range: RANGES[search.get('range') ?? ''] ? (search.get('range') as string) : '30d',
    search: search.get('search') || undefined,
    endedFrom: search.get('endedFrom') || undefined,
    endedTo: search.get('endedTo') || undefined,
  };
}

/** The list URL for a filter: what dashboard tiles and attention links open. */
export function listHref(filters: Partial<RunFilters> & { ws: string }): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) search.set(key, value);
  return `/admin/operations?${search.toString()}`;
}

/** The API query for a filter (tenant slugs resolved to ids by the caller). */
export function apiQuery(
  filters: RunFilters,
  tenantId: string | undefined,
  now = Date.now(),
): Record<string, string | undefined> {
  return {
    ...parseSearch(filters.search).params,
    type: filters.type,
    tenantId,
    initiator: filters.initiator,
    ...(filters.endedFrom && filters.endedTo
      ? // A run that ended in the bar may have been created long before it.
        { endedFrom: filters.endedFrom, endedTo: filters.endedTo, from: new Date(0).toISOString() }
      : { from: new Date(now - (RANGES[filters.range]?.ms ?? RANGES['30d']!.ms)).toISOString() }),
  };
}
