import { NavLink } from '@mantine/core';
import { Link, useLocation } from 'react-router';
import type { Me } from '../../api/types';
import { can, type WorkspaceAccess } from '../../app/workspace';

/** The settings pages this caller may use; an empty list means no Settings section at all. */
export function settingsLinks(
  me: Me,
  workspace: WorkspaceAccess | undefined,
): Array<{ to: string; label: string }> {
  const links: Array<{ to: string; label: string }> = [];
  if (workspace && can(workspace, 'workspace.manage')) {
    links.push({ to: `/settings/w/${workspace.slug}/members`, label: 'Members' });
    links.push({ to: `/settings/w/${workspace.slug}/tenants`, label: 'Tenants' });
    links.push({ to: `/settings/w/${workspace.slug}/alerts`, label: 'Alerts' });
  }
  if (workspace && can(workspace, 'tokens.manage'))
    links.push({ to: `/settings/w/${workspace.slug}/tokens`, label: 'API tokens' });
  if (me.platform.capabilities.includes('platform.directory'))
    links.push({ to: '/settings/workspaces', label: 'Workspaces' });
  return links;
}

/** One navigation entry, marked as the current page when it is. */
export function ShellLink({
  to,
  label,
  onNavigate,
}: {
  to: string;
  label: string;
  onNavigate: () => void;
}) {
  const location = useLocation();
  const path = to.split('?')[0];
  return (
    <NavLink
      component={Link}
      to={to}
      label={label}
      active={location.pathname === path}
      aria-current={location.pathname === path ? 'page' : undefined}
      onClick={onNavigate}
    />
  );
}
