import { Center, Loader } from '@mantine/core';
import { createBrowserRouter, Navigate } from 'react-router';
import { embedded } from '../api/base';
import { LoginPage } from '../pages/LoginPage';
import { NotFoundPage } from '../pages/NotFoundPage';
import { HomeRedirect } from './HomeRedirect';
import { Shell } from './Shell';

// The login page and the shell come with the first load; every other page is its own chunk,
// fetched when first visited (the first page load stays small, issue #14 point 16).
const page = <T,>(load: () => Promise<T>, pick: (module: T) => React.ComponentType) => ({
  lazy: async () => ({ Component: pick(await load()) }),
});

function Loading() {
  return (
    <Center h="100vh">
      <Loader aria-label="Loading" />
    </Center>
  );
}

export const router = createBrowserRouter([
  // Embedded, the host signs people in: its page, reached from the shell when nobody is.
  {
    path: '/login',
    element: embedded ? <Navigate to="/" replace /> : <LoginPage />,
    HydrateFallback: Loading,
  },
  {
    path: '/invite/:token',
    HydrateFallback: Loading,
    ...page(
      () => import('../pages/InvitePage'),
      (m) => m.InvitePage,
    ),
  },
  {
    path: '/',
    element: <Shell />,
    HydrateFallback: Loading,
    children: [
      { index: true, element: <HomeRedirect /> },
      {
        path: 'admin/operations',
        ...page(
          () => import('../pages/OperationsPage'),
          (m) => m.OperationsPage,
        ),
      },
      {
        path: 'admin/operations/:id',
        ...page(
          () => import('../pages/RunPage'),
          (m) => m.RunPage,
        ),
      },
      {
        path: 'admin/t/:tenant',
        ...page(
          () => import('../pages/TenantDashboard'),
          (m) => m.TenantDashboard,
        ),
      },
      {
        path: 'admin/w/:workspace',
        ...page(
          () => import('../pages/WorkspaceOverview'),
          (m) => m.WorkspaceOverview,
        ),
      },
      {
        path: 'system/ops/stuck',
        ...page(
          () => import('../pages/system/SystemListPage'),
          (m) => () => <m.SystemListPage kind="stuck" />,
        ),
      },
      {
        path: 'system/ops/failures',
        ...page(
          () => import('../pages/system/SystemListPage'),
          (m) => () => <m.SystemListPage kind="failures" />,
        ),
      },
      {
        path: 'system/ops/runs/:id',
        ...page(
          () => import('../pages/system/SystemRunPage'),
          (m) => m.SystemRunPage,
        ),
      },
      {
        path: 'system/flow',
        ...page(
          () => import('../pages/system/FlowPage'),
          (m) => m.FlowPage,
        ),
      },
      {
        path: 'system/workers',
        ...page(
          () => import('../pages/system/WorkersPage'),
          (m) => m.WorkersPage,
        ),
      },
      {
        path: 'system/audit',
        ...page(
          () => import('../pages/system/AuditPage'),
          (m) => m.AuditPage,
        ),
      },
      {
        path: 'settings/w/:workspace/members',
        ...page(
          () => import('../pages/settings/MembersPage'),
          (m) => m.MembersPage,
        ),
      },
      {
        path: 'settings/w/:workspace/tenants',
        ...page(
          () => import('../pages/settings/TenantsPage'),
          (m) => m.TenantsPage,
        ),
      },
      {
        path: 'settings/w/:workspace/tokens',
        ...page(
          () => import('../pages/settings/TokensPage'),
          (m) => m.TokensPage,
        ),
      },
      {
        path: 'settings/w/:workspace/alerts',
        ...page(
          () => import('../pages/settings/AlertsPage'),
          (m) => m.AlertsPage,
        ),
      },
      {
        path: 'settings/workspaces',
        ...page(
          () => import('../pages/settings/WorkspacesPage'),
          (m) => m.WorkspacesPage,
        ),
      },
      // Embedded, the host owns people's passwords: the page is not there.
      ...(embedded
        ? []
        : [
            {
              path: 'settings/password',
              ...page(
                () => import('../pages/settings/PasswordPage'),
                (m) => m.PasswordPage,
              ),
            },
          ]),
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
