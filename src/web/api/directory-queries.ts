import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { RoleName } from '../../domain/capabilities';
import { ApiError, api } from './client';
import type { ApiToken, Member, Tenant } from './types';

export type { ApiToken, Member, Tenant } from './types';

// Directory and access management (DESIGN §11): the settings pages' data, apart from the run
// queries.

export type Role = RoleName;
export const ROLE_OPTIONS: Array<{ value: Role; label: string }> = [
  { value: 'owner', label: 'Owner' },
  { value: 'manager', label: 'Manager' },
  { value: 'operator', label: 'Operator' },
  { value: 'readonly', label: 'Read-only' },
];

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
  return useQuery({
    queryKey: keys.tenants(slug),
    queryFn: () => api<{ items: Tenant[] }>(`${ws(slug)}/tenants`),
    retry,
  });
}

export function useUpsertTenant(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { slug: string; name: string; status?: Tenant['status'] }) =>
      api<Tenant>(`${ws(slug)}/tenants/${encodeURIComponent(body.slug)}`, {
        method: 'PUT',
        body: {
          name: body.name,
          ...(body.status ? { status: body.status } : {}),
        },
      }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: keys.tenants(slug) });
      // The shell's tenant switcher reads the tenants from /api/me.
      await client.invalidateQueries({ queryKey: ['me'] });
    },
  });
}

export function useMembers(slug: string) {
  return useQuery({
    queryKey: keys.members(slug),
    queryFn: () => api<{ items: Member[] }>(`${ws(slug)}/members`),
    retry,
  });
}

export function useUpsertMember(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; role: Role; tenantIds: string[] | null; name?: string }) =>
      api<{ member: Member; invite?: string }>(
        `${ws(slug)}/members/${encodeURIComponent(body.email)}`,
        {
          method: 'PUT',
          body: {
            role: body.role,
            tenantIds: body.tenantIds,
            ...(body.name ? { name: body.name } : {}),
          },
        },
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
      api<void>(`${ws(slug)}/members/${encodeURIComponent(userId)}`, { method: 'DELETE' }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: keys.members(slug) });
      await client.invalidateQueries({ queryKey: ['me'] });
    },
  });
}

export function useTokens(slug: string) {
  return useQuery({
    queryKey: keys.tokens(slug),
    queryFn: () => api<{ items: ApiToken[] }>(`${ws(slug)}/tokens`),
    retry,
  });
}

export function useCreateToken(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; role: Role }) =>
      api<{ id: string; token: string }>(`${ws(slug)}/tokens`, { method: 'POST', body }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.tokens(slug) }),
  });
}

export function useRevokeToken(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      api<void>(`${ws(slug)}/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.tokens(slug) }),
  });
}

export function useCreateWorkspace() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { slug: string; name: string }) =>
      api<{ id: string; slug: string; name: string }>('/api/workspaces', {
        method: 'POST',
        body: body,
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['me'] }),
  });
}

/** Changes one's own password (currentPassword) or redeems an invite (inviteToken). */
/** Joins a workspace through an owner's invitation: signed in, or creating the account. */
export function useAcceptInvitation() {
  return useMutation({
    mutationFn: (body: { token: string; newPassword?: string }) =>
      api<void>('/api/invitations/accept', { method: 'POST', body }),
  });
}

export function useSetPassword() {
  return useMutation({
    mutationFn: (
      body: { newPassword: string } & ({ currentPassword: string } | { inviteToken: string }),
    ) => api<void>('/api/auth/password', { method: 'POST', body }),
  });
}
