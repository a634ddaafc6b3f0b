import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { invalidateRunLists } from './queries';
import type { ListBucket, RunView } from './types';

export type BulkVerb = 'cancel' | 'retry';

/** What a bulk action acts on: the runs picked, or every run matching the list's filter. */
export type BulkTarget = { ids: string[] } | { filter: Record<string, unknown> };

/**
 * The list's API query as the bulk action's filter: `input.<path>` parameters become its `input`
 * object and "me" the caller's id (the list resolves it; the bulk action stores an id).
 */
export function bulkFilterOf(
  query: Record<string, string | undefined>,
  bucket: ListBucket,
  userId: string,
): Record<string, unknown> {
  const filter: Record<string, unknown> = { bucket };
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!value) continue;
    if (key.startsWith('input.')) input[key.slice('input.'.length)] = value;
    else filter[key] = key === 'initiator' && value === 'me' ? userId : value;
  }
  if (Object.keys(input).length) filter.input = input;
  return filter;
}

const path = (ws: string) => `/api/workspaces/${ws}/bulk-actions`;

/** The preview (`dryRun`): how many runs the action would touch, asked afresh by each dialog. */
export function useBulkPreview(ws: string, action: BulkVerb, target: BulkTarget) {
  return useQuery({
    queryKey: ['bulk-preview', ws, action, target],
    queryFn: () =>
      api<{ count: number }>(path(ws), {
        method: 'POST',
        body: { action, ...target, dryRun: true },
      }),
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
}

export function useBulkAction(ws: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ action, target }: { action: BulkVerb; target: BulkTarget }) =>
      api<{ run: RunView; count: number }>(path(ws), {
        method: 'POST',
        body: { action, ...target },
      }),
    onSuccess: () => invalidateRunLists(client),
  });
}
