import {
  Alert,
  Anchor,
  Button,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { useCreateWorkspace } from '../../api/directory-queries';
import { useShell } from '../../app/workspace';
import { NotFoundPage } from '../NotFoundPage';
import { FormError, SettingsTitle } from './common';

/**
 * `/settings/workspaces` (platform.directory): creates a workspace. Its first owner is then added
 * on its members page, which platform staff may manage without being a member.
 */
export function WorkspacesPage() {
  const { me } = useShell();
  const create = useCreateWorkspace();
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  if (!me.platform.capabilities.includes('platform.directory')) return <NotFoundPage />;
  const created = create.data;
  return (
    <Stack>
      <SettingsTitle title="Workspaces" />
      <Paper withBorder p="md">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate(
              { slug: slug.trim(), name: name.trim() },
              {
                onSuccess: () => {
                  setSlug('');
                  setName('');
                },
              },
            );
          }}
        >
          <Stack>
            <Text size="sm">
              Create a workspace, then add its first owner on its members page. An existing slug
              renames that workspace.
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput
                label="Workspace slug"
                description="Lower-case letters, digits and dashes."
                required
                value={slug}
                onChange={(e) => setSlug(e.currentTarget.value)}
              />
              <TextInput
                label="Workspace name"
                required
                value={name}
                onChange={(e) => setName(e.currentTarget.value)}
              />
            </SimpleGrid>
            <FormError error={create.error} />
            <Group>
              <Button type="submit" loading={create.isPending}>
                Create workspace
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
      {created && (
        <Alert
          color="green"
          title={`Workspace ${created.name} is ready`}
          data-testid="workspace-created"
        >
          <Group gap="md">
            <Anchor component={Link} to={`/settings/w/${created.slug}/members`}>
              Add its members
            </Anchor>
            <Anchor component={Link} to={`/settings/w/${created.slug}/tenants`}>
              Add its tenants
            </Anchor>
          </Group>
        </Alert>
      )}
    </Stack>
  );
}
