import { Navigate } from 'react-router';
import { useShell } from './workspace';

/** Members land on their workspace overview; platform staff without one on the stuck runs. */
export function HomeRedirect() {
  const { me, workspace } = useShell();
  if (workspace) return <Navigate to={`/admin/w/${workspace.slug}`} replace />;
  if (me.platform.capabilities.length) return <Navigate to="/system/ops/stuck" replace />;
  return <Navigate to="/admin/operations" replace />;
}
