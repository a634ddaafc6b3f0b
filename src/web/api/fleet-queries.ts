import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, qs } from './client';
import { invalidateRunLists } from './queries';
import type { ListBucket, RunPage, RunView } from './types';

// Fleet operations (DESIGN §19): one parent run over a child run per tenant.

export interface FleetStart {
  type: string;
  /** Every active tenant, or these slugs (inactive ones are skipped and counted). */
  tenants: 'all' | string[];
  input: Record<string, unknown>;
}

export interface FleetStarted {
  run: RunView;
  children: { started: number; reused: number; skipped: number };
}

export function useStartFleet(ws: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: FleetStart) =>
      api<FleetStarted>(`/api/workspaces/${encodeURIComponent(ws)}/fleet-operations`, {
        method: 'POST',
        body,
      }),
    onSuccess: () => invalidateRunLists(client),
  });
}

/**
 * A parent's children by bucket, in keyset pages. Keyed under `runs`, so the run stream patches
 * and refetches them like every other list.
 */
export function useRunChildren(id: string, bucket: ListBucket, limit = 25) {
  return useInfiniteQuery({
    queryKey: ['runs', 'children', id, bucket, limit],
    queryFn: ({ pageParam }) =>
      api<RunPage>(`/api/operations/${id}/children${qs({ bucket, limit, cursor: pageParam })}`),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/** A new fleet over a finished fleet's tenants that did not succeed (linked by `retryOf`). */
export function useRetryFailed() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      api<FleetStarted>(`/api/operations/${id}/retry-failed`, { method: 'POST' }),
    onSuccess: () => invalidateRunLists(client),
  });
}
