import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { invalidateRunLists } from './queries';
import type { RunView } from './types';

export type BulkVerb = 'cancel' | 'retry';

/** What a bulk action acts on: the runs picked, or every run matching the list's filter. */
export type BulkTarget = { ids: string[] } | { filter: Record<string, unknown> };

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
