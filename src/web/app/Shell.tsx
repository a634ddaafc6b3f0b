import {
  Anchor,
  AppShell,
  Avatar,
  Box,
  Burger,
  Center,
  Group,
  Loader,
  Menu,
  ScrollArea,
  Select,
  Stack,
  Text,
  UnstyledButton,
} from '@mantine/core';
import { useDisclosure, useMediaQuery } from '@mantine/hooks';
import { Notifications } from '@mantine/notifications';
import { useState } from 'react';
import { Link, Outlet, useLocation, useNavigate, useParams } from 'react-router';
import { embedded, hostLogoutUrl } from '../api/base';
import { useLogout, useMe } from '../api/queries';
import { useRunStream } from '../api/stream';
import { ActivityHint } from '../components/ActivityHint';
import { NotificationBell } from '../components/NotificationBell';
import { ShellLink, settingsLinks } from '../pages/settings/SettingsLinks';
import { SignInRedirect } from './SignInRedirect';
import { type ShellContext, tenantBySlugOrId } from './workspace';

const STORED = 'runwarden.workspace';

/**
 * Signed-in frame: the header keeps the activity hint, the notification bell and the user menu
 * at every width; the workspace and tenant switchers and the navigation live in the navbar,
 * which collapses behind the burger below the `sm` breakpoint (DESIGN §12: works from 360 px).
 */
export function Shell() {
  const me = useMe();
  const location = useLocation();
  const navigate = useNavigate();
  const params = useParams();
  const logout = useLogout();
  const [opened, { toggle, close }] = useDisclosure(false);
  // Below `sm` a closed navbar only slides out of view: inert keeps Tab and screen readers out.
  const narrow = useMediaQuery('(max-width: 47.99em)');
  const [chosen, setChosen] = useState(() => localStorage.getItem(STORED) ?? '');
  useRunStream(Boolean(me.data));

  if (me.isPending) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (!me.data) return <SignInRedirect from={location.pathname + location.search} />;
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
      close();
      navigate(`/admin/w/${slug}`);
    },
  };
  const staff = me.data.platform.capabilities.includes('system.ops.view');
  const settings = settingsLinks(me.data, workspace);
  const link = (to: string, label: string) => (
    <ShellLink key={to} to={to} label={label} onNavigate={close} />
  );

  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      {/* Inside the router, so a toast can hold a link to the run. */}
      <Notifications position="top-right" />
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap" gap="xs">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={opened ? 'Close navigation' : 'Open navigation'}
              aria-expanded={opened}
              data-testid="nav-burger"
            />
            <Anchor component={Link} to="/" fw={700} underline="never">
              Runwarden
            </Anchor>
          </Group>
          <Group gap="xs" wrap="nowrap">
            {workspace && (
              <Box style={{ flexShrink: 0 }}>
                <ActivityHint workspace={workspace.slug} />
              </Box>
            )}
            <NotificationBell />
            <Menu position="bottom-end">
              <Menu.Target>
                <UnstyledButton
                  data-testid="user-menu"
                  aria-label={`Account: ${me.data.user.name}`}
                  style={{ flexShrink: 0 }}
                >
                  {/* An avatar where the header is narrow (initials would not be in its name), the name where there is room. */}
                  <Avatar size="sm" hiddenFrom="sm" />
                  <Text size="sm" truncate maw={220} visibleFrom="sm">
                    {me.data.user.name}
                  </Text>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>{me.data.user.email}</Menu.Label>
                {/* Embedded, the host signs people in and out: its page, or no "Log out". */}
                {!embedded && (
                  <Menu.Item component={Link} to="/settings/password">
                    Change password
                  </Menu.Item>
                )}
                {hostLogoutUrl ? (
                  <Menu.Item component="a" href={hostLogoutUrl}>
                    Log out
                  </Menu.Item>
                ) : (
                  !embedded && (
                    <Menu.Item
                      onClick={() =>
                        logout.mutate(undefined, { onSuccess: () => navigate('/login') })
                      }
                    >
                      Log out
                    </Menu.Item>
                  )
                )}
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Main" inert={narrow && !opened}>
        <AppShell.Section>
          <Stack gap="xs" mb="sm">
            {me.data.workspaces.length > 0 && (
              <Select
                aria-label="Workspace"
                size="xs"
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
                value={params.tenant ?? ''}
                data={[
                  { value: '', label: 'All tenants' },
                  ...workspace.tenants.map((t) => ({ value: t.slug, label: t.name })),
                ]}
                onChange={(slug) => {
                  close();
                  navigate(slug ? `/admin/t/${slug}` : `/admin/w/${workspace.slug}`);
                }}
                allowDeselect={false}
              />
            )}
          </Stack>
        </AppShell.Section>
        <AppShell.Section grow component={ScrollArea}>
          {workspace && (
            <>
              {link(`/admin/w/${workspace.slug}`, 'Overview')}
              {link(`/admin/operations?ws=${workspace.slug}`, 'Operations')}
            </>
          )}
          {staff && (
            <>
              <SectionLabel>Platform</SectionLabel>
              {link('/system/ops/stuck', 'Stuck runs')}
              {link('/system/ops/failures', 'Failures')}
              {link('/system/flow', 'Flow limits')}
              {link('/system/workers', 'Workers')}
              {link('/system/audit', 'Audit')}
            </>
          )}
          {settings.length > 0 && (
            <>
              <SectionLabel>Settings</SectionLabel>
              {settings.map((s) => link(s.to, s.label))}
            </>
          )}
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet context={context} />
      </AppShell.Main>
    </AppShell>
  );
}

function SectionLabel({ children }: { children: string }) {
  return (
    <Text size="xs" fw={700} c="dimmed" tt="uppercase" mt="md" mb={4} px="sm">
      {children}
    </Text>
  );
}
