import { Button, Group, Paper, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { type Role, useCreateToken } from '../../api/directory-queries';
import { FormError, ShownOnce } from './common';
import { RoleSelect } from './member-fields';

/** Creates an API token; its secret is shown here once and never again. */
export function TokenCreateForm({ workspace }: { workspace: string }) {
  const create = useCreateToken(workspace);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [secret, setSecret] = useState<{ name: string; token: string } | null>(null);
  return (
    <Paper withBorder p="md">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setSecret(null);
          const tokenName = name.trim();
          create.mutate(
            { name: tokenName, role },
            {
              onSuccess: (result) => {
                setName('');
                setSecret({ name: tokenName, token: result.token });
              },
            },
          );
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Create an API token
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label="Token name"
              description="What uses it, e.g. the CI pipeline."
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
            />
            <RoleSelect value={role} onChange={setRole} label="Token role" />
          </SimpleGrid>
          <FormError error={create.error} />
          <Group>
            <Button type="submit" loading={create.isPending}>
              Create token
            </Button>
          </Group>
          {secret && (
            <ShownOnce title={`Token ${secret.name}`} value={secret.token} testId="token-secret">
              <Text size="sm">
                Send it as <code>Authorization: Bearer &lt;token&gt;</code>.
              </Text>
            </ShownOnce>
          )}
        </Stack>
      </form>
    </Paper>
  );
}
