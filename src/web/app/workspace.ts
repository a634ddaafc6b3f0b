import { useOutletContext } from 'react-router';
import type { Me } from '../api/types';

export type WorkspaceAccess = Me['workspaces'][number];

export interface ShellContext {
  me: Me;
  workspace: WorkspaceAccess | undefined;
  selectWorkspace(slug: string): void;
}

/** The signed-in caller and the workspace the shell's switcher has selected. */
export function useShell(): ShellContext {
  return useOutletContext<ShellContext>();
}

export function can(workspace: WorkspaceAccess | undefined, capability: string): boolean {
  return Boolean(workspace?.capabilities.includes(capability));
}

export function tenantBySlugOrId(me: Me, ref: string) {
  for (const workspace of me.workspaces) {
    const tenant = workspace.tenants.find((t) => t.slug === ref || t.id === ref);
    if (tenant) return { workspace, tenant };
  }
  return undefined;
}

export function tenantName(workspace: WorkspaceAccess | undefined, id: string | null): string {
  if (!id) return 'Workspace';
  return workspace?.tenants.find((t) => t.id === id)?.name ?? 'Tenant';
}
