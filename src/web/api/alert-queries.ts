import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AlertCondition, AlertDestination } from '../../domain/alert-rules';
import { ApiError, api } from './client';

const base = (slug: string) => `/api/workspaces/${encodeURIComponent(slug)}/alert-rules`;
const key = (slug: string) => ['alert-rules', slug];
const retry = (count: number, error: Error) =>
  !(error instanceof ApiError && error.status < 500) && count < 2;

export interface AlertRuleView {
  id: string;
  name: string;
  condition: AlertCondition;
  /** The condition in words. */
  description: string;
  destination: AlertDestination;
  throttleMinutes: number;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  lastAlertAt: string | null;
  pendingCount: number;
}

export interface AlertDeliveryView {
  id: string;
  createdAt: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  test: boolean;
  count: number;
}

export interface AlertRuleBody {
  name: string;
  condition: AlertCondition;
  destination: AlertDestination;
  throttleMinutes?: number;
}

export function useAlertRules(slug: string) {
  return useQuery({
    queryKey: key(slug),
    queryFn: () => api<{ items: AlertRuleView[] }>(base(slug)),
    retry,
  });
}

export function useCreateAlertRule(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: AlertRuleBody) =>
      api<{ rule: AlertRuleView; secret: string | null }>(base(slug), { method: 'POST', body }),
    onSuccess: () => client.invalidateQueries({ queryKey: key(slug) }),
  });
}

export function useDeleteAlertRule(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`${base(slug)}/${id}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: key(slug) }),
  });
}

/** A rule's deliveries, read again every 5 s while shown (a retry may be on its way). */
export function useAlertDeliveries(slug: string, id: string) {
  return useQuery({
    queryKey: [...key(slug), id, 'deliveries'],
    queryFn: () => api<{ items: AlertDeliveryView[] }>(`${base(slug)}/${id}/deliveries`),
    refetchInterval: 5_000,
    retry,
  });
}

export function useTestAlertRule(slug: string, id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () =>
      api<{ delivery: { id: string } }>(`${base(slug)}/${id}/test`, { method: 'POST' }),
    onSuccess: () => client.invalidateQueries({ queryKey: [...key(slug), id, 'deliveries'] }),
  });
}
