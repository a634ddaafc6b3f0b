import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, qs } from './client';
import type { Notification, RunContext } from './types';

/**
 * The system plane's names and workers for the runs a list shows. Until the server offers the
 * route (a 404), the lists fall back to what the runs carry.
 */
export function useSystemContext(runIds: string[]) {
  const ids = [...runIds].sort().join(',');
  return useQuery({
    queryKey: ['system', 'context', ids],
    queryFn: async () => {
      try {
        const { items } = await api<{ items: RunContext[] }>(
          `/api/system/ops/context${qs({ ids })}`,
        );
        return new Map(items.map((item) => [item.runId, item]));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return new Map<string, RunContext>();
        throw error;
      }
    },
    enabled: ids.length > 0,
    staleTime: 30_000,
  });
}

/**
 * Marks every unread notification read: `POST /api/notifications/read-all` where the server has
 * it, else each unread one the bell holds.
 */
export function useMarkAllRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (unread: Notification[]) => {
      try {
        await api('/api/notifications/read-all', { method: 'POST' });
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        await Promise.all(
          unread.map((note) => api(`/api/notifications/${note.id}/read`, { method: 'POST' })),
        );
      }
    },
    onSettled: () => client.invalidateQueries({ queryKey: ['notifications'] }),
  });
}

/** The bell's notifications: up to 100, so "mark all read" can reach every unread one. */
export function useNotificationFeed() {
  return useQuery({
    queryKey: ['notifications', 'feed'],
    queryFn: () =>
      api<{ items: Notification[]; unreadCount: number }>('/api/notifications?limit=100'),
  });
}
