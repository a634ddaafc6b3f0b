import { Button, Group, Modal, Paper, SimpleGrid, Stack, TextInput, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { type Tenant, useUpsertTenant } from '../../api/directory-queries';
import { DialogFooter, FormError } from './common';

/**
 * Adds a tenant. The API upserts by slug, so an existing slug would silently rename that tenant:
 * the form refuses it and points at Rename instead.
 */
export function TenantAddForm({ workspace, tenants }: { workspace: string; tenants: Tenant[] }) {
  const upsert = useUpsertTenant(workspace);
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const taken = tenants.some((t) => t.slug === slug.trim());
  return (
    <Paper withBorder p="md">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (taken) return;
          upsert.mutate(
            { slug: slug.trim(), name: name.trim() },
            {
              onSuccess: (tenant) => {
                setSlug('');
                setName('');
                notifications.show({ color: 'green', message: `Tenant ${tenant.name} added.` });
              },
            },
          );
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Add a tenant
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label="Slug"
              description="Lower-case letters, digits and dashes; it cannot change later."
              required
              value={slug}
              error={taken ? 'A tenant with this slug exists: rename it below instead.' : null}
              onChange={(e) => setSlug(e.currentTarget.value)}
            />
            <TextInput
              label="Name"
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
            />
          </SimpleGrid>
          <FormError error={upsert.error} />
          <Group>
            <Button type="submit" loading={upsert.isPending}>
              Add tenant
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

export function TenantRename({ workspace, tenant }: { workspace: string; tenant: Tenant }) {
  const [opened, { open, close }] = useDisclosure(false);
  const upsert = useUpsertTenant(workspace);
  const [name, setName] = useState(tenant.name);
  return (
    <>
      <Button
        variant="light"
        size="xs"
        aria-label={`Rename ${tenant.slug}`}
        onClick={() => {
          setName(tenant.name);
          upsert.reset();
          open();
        }}
      >
        Rename
      </Button>
      <Modal opened={opened} onClose={close} title={`Rename ${tenant.slug}`}>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            upsert.mutate({ slug: tenant.slug, name: name.trim() }, { onSuccess: close });
          }}
        >
          <Stack>
            <TextInput
              label="Name"
              required
              data-autofocus
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
            />
            <DialogFooter error={upsert.error} pending={upsert.isPending} onCancel={close} />
          </Stack>
        </form>
      </Modal>
    </>
  );
}
