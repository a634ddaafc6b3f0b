import { type QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { RoleName } from '../../domain/capabilities';
import { basePath } from './base';
import { ApiError } from './client';
import type { Me } from './types';

// Directory and access management (DESIGN §11): the settings pages' data, apart from the run
// queries. `api()` in client.ts speaks GET/POST with a JSON answer; these routes also use PUT,
// DELETE and 204, hence one small request function of their own.

export type Role = RoleName;
export const ROLE_OPTIONS: Array<{ value: Role; label: string }> = [
  { value: 'owner', label: 'Owner' },
  { value: 'manager', label: 'Manager' },
  { value: 'operator', label: 'Operator' },
  { value: 'readonly', label: 'Read-only' },
];

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'inactive';
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  tenantIds: string[] | null;
  disabled: boolean;
}

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

async function send<T>(
  client: QueryClient,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  // The token /api/me handed out; an anonymous caller (an invite) has none and needs none.
  const csrf = client.getQueryData<Me | null>(['me'])?.csrfToken;
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(`${basePath}${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const error = (json as { error?: { code: string; message: string; details?: unknown } })?.error;
    throw new ApiError(
      res.status,
      error?.code ?? 'http_error',
      error?.message ?? res.statusText,
      error?.details,
    );
  }
  return json as T;
}

const ws = (slug: string) => `/api/workspaces/${encodeURIComponent(slug)}`;
const keys = {
  tenants: (slug: string) => ['directory', slug, 'tenants'],
  members: (slug: string) => ['directory', slug, 'members'],
  tokens: (slug: string) => ['directory', slug, 'tokens'],
};

/** Denied answers (403/404) are final: no retry before the page says "not found". */
const retry = (count: number, error: Error) =>
  !(error instanceof ApiError && error.status < 500) && count < 2;

export function useTenants(slug: string) {
  const client = useQueryClient();
  return useQuery({
    queryKey: keys.tenants(slug),
    queryFn: () => send<{ items: Tenant[] }>(client, 'GET', `${ws(slug)}/tenants`),
    retry,
  });
}

export function useUpsertTenant(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { slug: string; name: string; status?: Tenant['status'] }) =>
      send<Tenant>(client, 'PUT', `${ws(slug)}/tenants/${encodeURIComponent(body.slug)}`, {
        name: body.name,
        ...(body.status ? { status: body.status } : {}),
      }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: keys.tenants(slug) });
      // The shell's tenant switcher reads the tenants from /api/me.
      await client.invalidateQueries({ queryKey: ['me'] });
    },
  });
}

export function useMembers(slug: string) {
  const client = useQueryClient();
  return useQuery({
    queryKey: keys.members(slug),
    queryFn: () => send<{ items: Member[] }>(client, 'GET', `${ws(slug)}/members`),
    retry,
  });
}

export function useUpsertMember(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; role: Role; tenantIds: string[] | null; name?: string }) =>
      send<{ member: Member; invite?: string }>(
        client,
        'PUT',
        `${ws(slug)}/members/${encodeURIComponent(body.email)}`,
        { role: body.role, tenantIds: body.tenantIds, ...(body.name ? { name: body.name } : {}) },
      ),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: keys.members(slug) });
      await client.invalidateQueries({ queryKey: ['me'] });
    },
  });
}

export function useRemoveMember(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (userId: string) =>
      send<void>(client, 'DELETE', `${ws(slug)}/members/${encodeURIComponent(userId)}`),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: keys.members(slug) });
      await client.invalidateQueries({ queryKey: ['me'] });
    },
  });
}

export function useTokens(slug: string) {
  const client = useQueryClient();
  return useQuery({
    queryKey: keys.tokens(slug),
    queryFn: () => send<{ items: ApiToken[] }>(client, 'GET', `${ws(slug)}/tokens`),
    retry,
  });
}

export function useCreateToken(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; role: Role }) =>
      send<{ id: string; token: string }>(client, 'POST', `${ws(slug)}/tokens`, body),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.tokens(slug) }),
  });
}

export function useRevokeToken(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      send<void>(client, 'DELETE', `${ws(slug)}/tokens/${encodeURIComponent(id)}`),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.tokens(slug) }),
  });
}

export function useCreateWorkspace() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { slug: string; name: string }) =>
      send<{ id: string; slug: string; name: string }>(client, 'POST', '/api/workspaces', body),
    onSuccess: () => client.invalidateQueries({ queryKey: ['me'] }),
  });
}

/** Changes one's own password (currentPassword) or redeems an invite (inviteToken). */
export function useSetPassword() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (
      body: { newPassword: string } & ({ currentPassword: string } | { inviteToken: string }),
    ) => send<void>(client, 'POST', '/api/auth/password', body),
  });
}
