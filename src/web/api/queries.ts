import {
  type InfiniteData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { ApiError, api, qs, setCsrfToken } from './client';
import type {
  AuditEntry,
  ListBucket,
  Me,
  Notification,
  OperationType,
  RunDetail,
  RunPage,
  RunView,
  Summary,
} from './types';

export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      try {
        const me = await api<Me>('/api/me');
        setCsrfToken(me.csrfToken);
        return me;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
}

export function useDemoLogins() {
  return useQuery({
    queryKey: ['demo-logins'],
    queryFn: () => api<{ logins: Array<{ email: string; description: string }> }>('/api/auth/demo'),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useLogin() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; password: string }) =>
      api<{ csrfToken: string }>('/api/auth/login', { method: 'POST', body }),
    onSuccess: async (result) => {
      setCsrfToken(result.csrfToken);
      client.clear();
      await client.invalidateQueries({ queryKey: ['me'] });
    },
  });
}

export function useLogout() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api('/api/auth/logout', { method: 'POST' }),
    onSuccess: () => {
      setCsrfToken(null);
      client.clear();
    },
  });
}

export type RunQuery = Record<string, string | undefined> & { bucket?: ListBucket };

/** A refusal (a bad search, a run you may not see) stays one; only failures are tried again. */
function retryUnlessRefused(count: number, error: Error): boolean {
  return !(error instanceof ApiError && error.status < 500) && count < 2;
}

export function useRunPages(ws: string, query: RunQuery, limit = 25) {
  return useInfiniteQuery({
    queryKey: ['runs', ws, query, limit],
    queryFn: ({ pageParam }) =>
      api<RunPage>(`/api/workspaces/${ws}/operations${qs({ ...query, limit, cursor: pageParam })}`),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: Boolean(ws),
    retry: retryUnlessRefused,
  });
}

/** One page of runs (dashboards, the activity hint). */
export function useRuns(ws: string | undefined, query: RunQuery, limit = 10) {
  return useQuery({
    queryKey: ['runs', ws, query, limit, 'single'],
    queryFn: () => api<RunPage>(`/api/workspaces/${ws}/operations${qs({ ...query, limit })}`),
    enabled: Boolean(ws),
  });
}

export function useBucketCounts(ws: string, query: Record<string, string | undefined>) {
  return useQuery({
    queryKey: ['counts', ws, query],
    queryFn: () =>
      api<{ counts: Record<ListBucket, number>; cap: number }>(
        `/api/workspaces/${ws}/operations/counts${qs(query)}`,
      ),
    enabled: Boolean(ws),
    retry: retryUnlessRefused,
  });
}

export function useSummary(ws: string | undefined, tenantId?: string) {
  return useQuery({
    queryKey: ['summary', ws, tenantId],
    queryFn: () => api<Summary>(`/api/workspaces/${ws}/operations/summary${qs({ tenantId })}`),
    enabled: Boolean(ws),
  });
}

export function useRun(id: string, plane: 'admin' | 'system' = 'admin') {
  return useQuery({
    queryKey: ['run', id, plane],
    queryFn: () =>
      api<RunDetail>(plane === 'admin' ? `/api/operations/${id}` : `/api/system/ops/runs/${id}`),
    retry: retryUnlessRefused,
  });
}

export function useOperationTypes() {
  return useQuery({
    queryKey: ['operation-types'],
    queryFn: () => api<OperationType[]>('/api/operation-types'),
    staleTime: 5 * 60_000,
  });
}

export function useNotifications() {
  return useQuery({
    queryKey: ['notifications'],
    queryFn: () => api<{ items: Notification[]; unreadCount: number }>('/api/notifications'),
  });
}

export function useMarkRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api(`/api/notifications/${id}/read`, { method: 'POST' }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['notifications'] }),
  });
}

export function useStartRun(ws: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: {
      type: string;
      tenantId?: string | null;
      input: Record<string, unknown>;
      priority?: 'high' | 'normal' | 'low';
      runAt?: string;
      delaySeconds?: number;
      expiresAt?: string;
      tags?: string[];
    }) =>
      api<{ run: RunView; reused: boolean }>(`/api/workspaces/${ws}/operations`, {
        method: 'POST',
        body,
      }),
    onSuccess: () => invalidateRunLists(client),
  });
}

export function useCancelRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      api<{ run: RunView }>(`/api/operations/${id}/cancel`, { method: 'POST' }),
    onSuccess: async (result) => {
      await client.invalidateQueries({ queryKey: ['run', result.run.id] });
      await invalidateRunLists(client);
    },
  });
}

export function useSystemList(kind: 'stuck' | 'failures') {
  return useQuery({
    queryKey: ['system', kind],
    queryFn: () => api<{ items: RunView[] }>(`/api/system/ops/${kind}`),
  });
}

export function useAudit() {
  return useQuery({
    queryKey: ['system', 'audit'],
    queryFn: () => api<{ items: AuditEntry[] }>('/api/system/audit?limit=50'),
  });
}

export function useTriage() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: 'retry' | 'cancel' | 'mark-reviewed' }) =>
      api<{ run: RunView }>(`/api/system/ops/runs/${id}/${action}`, { method: 'POST' }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ['system'] });
      await client.invalidateQueries({ queryKey: ['run'] });
      await invalidateRunLists(client);
    },
  });
}

export async function invalidateRunLists(client: ReturnType<typeof useQueryClient>) {
  await Promise.all(
    ['runs', 'counts', 'summary', 'system'].map((key) =>
      client.invalidateQueries({ queryKey: [key] }),
    ),
  );
}

/** Replaces a run wherever a cached list or detail shows it (a pushed update, no refetch). */
export function patchRun(client: ReturnType<typeof useQueryClient>, run: RunView): boolean {
  let found = false;
  const swap = (items: RunView[]) =>
    items.map((item) => {
      if (item.id !== run.id) return item;
      found = true;
      return run;
    });
  client.setQueriesData<InfiniteData<RunPage> | RunPage>({ queryKey: ['runs'] }, (old) => {
    if (!old) return old;
    if ('pages' in old) {
      return { ...old, pages: old.pages.map((p) => ({ ...p, items: swap(p.items) })) };
    }
    return { ...old, items: swap(old.items) };
  });
  client.setQueriesData<{ items: RunView[] }>({ queryKey: ['system'] }, (old) =>
    old && Array.isArray(old.items) ? { ...old, items: swap(old.items) } : old,
  );
  client.setQueriesData<RunDetail>({ queryKey: ['run', run.id] }, (old) =>
    old ? { ...old, ...run } : old,
  );
  return found;
}
