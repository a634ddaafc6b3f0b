import { Anchor, Badge, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { useShell } from '../app/workspace';
import { Dashboard } from '../components/Dashboard';
import { NotFoundPage } from './NotFoundPage';

/** `/admin/w/:workspace`: the workspace overview, with its tenants. */
export function WorkspaceOverview() {
  const { workspace: ref = '' } = useParams();
  const { me } = useShell();
  const workspace = me.workspaces.find((w) => w.slug === ref || w.id === ref);
  if (!workspace) return <NotFoundPage what="workspace" />;
  return (
    <Stack gap="lg">
      <Dashboard title={`${workspace.name} overview`} workspace={workspace} />
      <Stack gap="xs">
        <Title order={2} size="h4">
          Tenants
        </Title>
        <Group>
          {workspace.tenants.map((t) => (
            <Paper key={t.id} withBorder p="sm">
              <Group gap="xs">
                <Anchor component={Link} to={`/admin/t/${t.slug}`}>
                  {t.name}
                </Anchor>
                {t.status !== 'active' && (
                  <Badge color="gray" size="sm">
                    Inactive
                  </Badge>
                )}
              </Group>
              <Text size="xs" c="dimmed">
                {t.slug}
              </Text>
            </Paper>
          ))}
        </Group>
      </Stack>
    </Stack>
  );
}
