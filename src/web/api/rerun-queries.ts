import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { invalidateRunLists } from './queries';
import type { RunView } from './types';

/** "Run again…" (DESIGN §18): a new run of the same type and tenant, perhaps with edited input. */
export function useRerun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, input }: { id: string; input: Record<string, unknown> }) =>
      api<{ run: RunView; reused: boolean }>(`/api/operations/${id}/rerun`, {
        method: 'POST',
        body: { input },
      }),
    // The lists, and the original's "Run again as:" (a list filtered by rerunOf).
    onSuccess: () => invalidateRunLists(client),
  });
}
