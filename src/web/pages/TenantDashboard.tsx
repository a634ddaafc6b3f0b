import { useParams } from 'react-router';
import { tenantBySlugOrId, useShell } from '../app/workspace';
import { Dashboard } from '../components/Dashboard';
import { NotFoundPage } from './NotFoundPage';

/** `/admin/t/:tenant`: one tenant's dashboard. */
export function TenantDashboard() {
  const { tenant: ref = '' } = useParams();
  const { me } = useShell();
  const found = tenantBySlugOrId(me, ref);
  if (!found) return <NotFoundPage what="tenant" />;
  return <Dashboard title={found.tenant.name} workspace={found.workspace} tenant={found.tenant} />;
}
