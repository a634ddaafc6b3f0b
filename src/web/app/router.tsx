import { createBrowserRouter } from 'react-router';
import { InvitePage } from '../pages/InvitePage';
import { LoginPage } from '../pages/LoginPage';
import { NotFoundPage } from '../pages/NotFoundPage';
import { OperationsPage } from '../pages/OperationsPage';
import { RunPage } from '../pages/RunPage';
import { MembersPage } from '../pages/settings/MembersPage';
import { PasswordPage } from '../pages/settings/PasswordPage';
import { TenantsPage } from '../pages/settings/TenantsPage';
import { TokensPage } from '../pages/settings/TokensPage';
import { WorkspacesPage } from '../pages/settings/WorkspacesPage';
import { AuditPage } from '../pages/system/AuditPage';
import { SystemListPage } from '../pages/system/SystemListPage';
import { SystemRunPage } from '../pages/system/SystemRunPage';
import { TenantDashboard } from '../pages/TenantDashboard';
import { WorkspaceOverview } from '../pages/WorkspaceOverview';
import { HomeRedirect } from './HomeRedirect';
import { Shell } from './Shell';

export const router = createBrowserRouter([
  { path: '/login', element: <LoginPage /> },
  { path: '/invite/:token', element: <InvitePage /> },
  {
    path: '/',
    element: <Shell />,
    children: [
      { index: true, element: <HomeRedirect /> },
      { path: 'admin/operations', element: <OperationsPage /> },
      { path: 'admin/operations/:id', element: <RunPage /> },
      { path: 'admin/t/:tenant', element: <TenantDashboard /> },
      { path: 'admin/w/:workspace', element: <WorkspaceOverview /> },
      { path: 'system/ops/stuck', element: <SystemListPage kind="stuck" /> },
      { path: 'system/ops/failures', element: <SystemListPage kind="failures" /> },
      { path: 'system/ops/runs/:id', element: <SystemRunPage /> },
      { path: 'system/audit', element: <AuditPage /> },
      { path: 'settings/w/:workspace/members', element: <MembersPage /> },
      { path: 'settings/w/:workspace/tenants', element: <TenantsPage /> },
      { path: 'settings/w/:workspace/tokens', element: <TokensPage /> },
      { path: 'settings/workspaces', element: <WorkspacesPage /> },
      { path: 'settings/password', element: <PasswordPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
