import {
  Anchor,
  AppShell,
  Center,
  Group,
  Loader,
  Menu,
  Select,
  Text,
  UnstyledButton,
} from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { useState } from 'react';
import { Link, Navigate, Outlet, useLocation, useNavigate, useParams } from 'react-router';
import { useLogout, useMe } from '../api/queries';
import { useRunStream } from '../api/stream';
import { ActivityHint } from '../components/ActivityHint';
import { NotificationBell } from '../components/NotificationBell';
import { type ShellContext, tenantBySlugOrId } from './workspace';

const STORED = 'runwarden.workspace';

/** Signed-in frame: workspace switcher, navigation, activity hint, notification bell. */
export function Shell() {
  const me = useMe();
  const location = useLocation();
  const navigate = useNavigate();
  const params = useParams();
  const logout = useLogout();
  const [chosen, setChosen] = useState(() => localStorage.getItem(STORED) ?? '');
  useRunStream(Boolean(me.data));

  if (me.isPending) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (!me.data) {
    const from = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?from=${from}`} replace />;
  }
  const fromUrl =
    new URLSearchParams(location.search).get('ws') ??
    params.workspace ??
    (params.tenant ? tenantBySlugOrId(me.data, params.tenant)?.workspace.slug : undefined);
  const workspace =
    me.data.workspaces.find((w) => w.slug === fromUrl) ??
    me.data.workspaces.find((w) => w.slug === chosen) ??
    me.data.workspaces[0];
  const context: ShellContext = {
    me: me.data,
    workspace,
    selectWorkspace(slug) {
      localStorage.setItem(STORED, slug);
      setChosen(slug);
      navigate(`/admin/w/${slug}`);
    },
  };
  const staff = me.data.platform.capabilities.length > 0;

  return (
    <AppShell header={{ height: 60 }} padding="md">
      {/* Inside the router, so a toast can hold a link to the run. */}
      <Notifications position="top-right" />
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <Anchor component={Link} to="/" fw={700} underline="never">
              Runwarden
            </Anchor>
            {me.data.workspaces.length > 0 && (
              <Select
                aria-label="Workspace"
                size="xs"
                w={160}
                value={workspace?.slug ?? null}
                data={me.data.workspaces.map((w) => ({ value: w.slug, label: w.name }))}
                onChange={(slug) => slug && context.selectWorkspace(slug)}
                allowDeselect={false}
              />
            )}
            {workspace && workspace.tenants.length > 0 && (
              <Select
                aria-label="Tenant"
                size="xs"
                w={190}
                value={params.tenant ?? ''}
                data={[
                  { value: '', label: 'All tenants' },
                  ...workspace.tenants.map((t) => ({ value: t.slug, label: t.name })),
                ]}
                onChange={(slug) =>
                  navigate(slug ? `/admin/t/${slug}` : `/admin/w/${workspace.slug}`)
                }
                allowDeselect={false}
              />
            )}
            <nav aria-label="Main">
              <Group gap="md" wrap="nowrap">
                {workspace && (
                  <>
                    <Anchor component={Link} to={`/admin/w/${workspace.slug}`} size="sm">
                      Overview
                    </Anchor>
                    <Anchor
                      component={Link}
                      to={`/admin/operations?ws=${workspace.slug}`}
                      size="sm"
                    >
                      Operations
                    </Anchor>
                  </>
                )}
                {staff && (
                  <>
                    <Anchor component={Link} to="/system/ops/stuck" size="sm">
                      Stuck runs
                    </Anchor>
                    <Anchor component={Link} to="/system/ops/failures" size="sm">
                      Failures
                    </Anchor>
                    <Anchor component={Link} to="/system/audit" size="sm">
                      Audit
                    </Anchor>
                  </>
                )}
              </Group>
            </nav>
          </Group>
          <Group gap="sm" wrap="nowrap">
            {workspace && <ActivityHint workspace={workspace.slug} />}
            <NotificationBell />
            <Menu position="bottom-end">
              <Menu.Target>
                <UnstyledButton>
                  <Text size="sm">{me.data.user.name}</Text>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>{me.data.user.email}</Menu.Label>
                <Menu.Item
                  onClick={() => logout.mutate(undefined, { onSuccess: () => navigate('/login') })}
                >
                  Log out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main>
        <Outlet context={context} />
      </AppShell.Main>
    </AppShell>
  );
}
