import { Navigate } from 'react-router';
import { useShell } from './workspace';

/**
 * Members land on their workspace overview; platform staff without one on the stuck runs, or,
 * holding only `platform.directory`, on the workspaces they manage.
 */
export function HomeRedirect() {
  const { me, workspace } = useShell();
  const platform = me.platform.capabilities;
  if (workspace) return <Navigate to={`/admin/w/${workspace.slug}`} replace />;
  if (platform.includes('system.ops.view')) return <Navigate to="/system/ops/stuck" replace />;
  if (platform.includes('platform.directory'))
    return <Navigate to="/settings/workspaces" replace />;
  return <Navigate to="/admin/operations" replace />;
}
