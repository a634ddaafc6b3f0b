import { createBrowserRouter } from 'react-router';
import { LoginPage } from '../pages/LoginPage';
import { NotFoundPage } from '../pages/NotFoundPage';
import { OperationsPage } from '../pages/OperationsPage';
import { RunPage } from '../pages/RunPage';
import { AuditPage } from '../pages/system/AuditPage';
import { SystemListPage } from '../pages/system/SystemListPage';
import { SystemRunPage } from '../pages/system/SystemRunPage';
import { TenantDashboard } from '../pages/TenantDashboard';
import { WorkspaceOverview } from '../pages/WorkspaceOverview';
import { HomeRedirect } from './HomeRedirect';
import { Shell } from './Shell';

export const router = createBrowserRouter([
  { path: '/login', element: <LoginPage /> },
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
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
