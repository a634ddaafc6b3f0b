import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from './client';
import { invalidateRunLists } from './queries';
import type { FlowLimitView, Pause } from './types';

// Flow control (DESIGN §11, §17): a workspace's pauses, and the limits platform staff watch and
// override.

export type FlowLimits = FlowLimitView['declared'];

const ws = (slug: string) => `/api/workspaces/${encodeURIComponent(slug)}`;
const pausesKey = (slug: string) => ['pauses', slug];

/** Denied answers (403/404) are final: no retry before the page says "not found". */
const retry = (count: number, error: Error) =>
  !(error instanceof ApiError && error.status < 500) && count < 2;

export function usePauses(slug: string) {
  return useQuery({
    queryKey: pausesKey(slug),
    queryFn: () => api<{ items: Pause[] }>(`${ws(slug)}/pauses`),
    retry,
  });
}

/**
 * After a pause or a resume the pauses are re-read, and so is every run list and detail: a held
 * run's waiting copy follows the pause at once.
 */
function useAfterPauseChange(slug: string) {
  const client = useQueryClient();
  return async () => {
    await client.invalidateQueries({ queryKey: pausesKey(slug) });
    await client.invalidateQueries({ queryKey: ['run'] });
    await invalidateRunLists(client);
  };
}

export function usePause(slug: string) {
  const after = useAfterPauseChange(slug);
  return useMutation({
    mutationFn: (scope: { type: string | null; tenantId: string | null }) =>
      api<Pause>(`${ws(slug)}/pauses`, { method: 'POST', body: scope }),
    onSuccess: after,
  });
}

export function useResume(slug: string) {
  const after = useAfterPauseChange(slug);
  return useMutation({
    mutationFn: (id: string) =>
      api<void>(`${ws(slug)}/pauses/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: after,
  });
}

/** Every limit with its running and waiting runs; re-read every few seconds while open. */
export function useFlowLimits() {
  return useQuery({
    queryKey: ['system', 'flow'],
    queryFn: () => api<{ limits: FlowLimitView[] }>('/api/system/flow'),
    refetchInterval: 5_000,
    retry,
  });
}

function useLimitChange<T>(request: (vars: T) => Promise<{ limit: FlowLimitView }>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: request,
    onSuccess: () => client.invalidateQueries({ queryKey: ['system', 'flow'] }),
  });
}

export function useOverrideLimit() {
  return useLimitChange(({ name, limits }: { name: string; limits: FlowLimits }) =>
    api<{ limit: FlowLimitView }>(`/api/system/flow/limits/${encodeURIComponent(name)}`, {
      method: 'PUT',
      body: limits,
    }),
  );
}

export function useRestoreLimit() {
  return useLimitChange((name: string) =>
    api<{ limit: FlowLimitView }>(`/api/system/flow/limits/${encodeURIComponent(name)}`, {
      method: 'DELETE',
    }),
  );
}

/**
 * An API refusal in words: its message, then what each field's check said (a schema refusal's
 * `details` is a list of `{path, message}`).
 */
export function refusalText(error: Error): string {
  const details = error instanceof ApiError ? fieldIssues(error) : [];
  if (!details.length) return error.message;
  // "expiresAt is already past" names its field itself; "Required" does not.
  const said = details.map((d) =>
    d.path && !d.message.includes(d.path) ? `${d.path}: ${d.message}` : d.message,
  );
  return `${error.message} ${said.join('; ')}`;
}

/** The `{path, message}` list of a schema refusal, or of a 422's `details.issues`. */
export function fieldIssues(error: ApiError): Array<{ path: string; message: string }> {
  const details = error.details;
  const list = Array.isArray(details)
    ? details
    : (details as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (d): d is { path: string; message: string } =>
      typeof d === 'object' &&
      d !== null &&
      typeof (d as { path?: unknown }).path === 'string' &&
      typeof (d as { message?: unknown }).message === 'string',
  );
}
