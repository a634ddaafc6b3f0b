import { Button, Group, Paper, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { type Member, type Role, type Tenant, useUpsertMember } from '../../api/directory-queries';
import { FormError, ShownOnce } from './common';
import { RoleSelect, TenantRestriction } from './member-fields';

/**
 * Adds a person by email: a pending member until they accept the invite link shown here once
 * (the same whether or not they already use Runwarden). The API upserts by email, so an existing
 * member's address would silently change their role: refused here.
 */
export function MemberAddForm({
  workspace,
  tenants,
  members,
}: {
  workspace: string;
  tenants: Tenant[];
  members: Member[];
}) {
  const upsert = useUpsertMember(workspace);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [tenantIds, setTenantIds] = useState<string[]>([]);
  const [invite, setInvite] = useState<{ email: string; url: string } | null>(null);
  const existing = members.some((m) => m.email === email.trim().toLowerCase());

  return (
    <Paper withBorder p="md">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setInvite(null);
          if (existing) return;
          const address = email.trim();
          upsert.mutate(
            {
              email: address,
              role,
              tenantIds: tenantIds.length ? tenantIds : null,
              ...(name.trim() ? { name: name.trim() } : {}),
            },
            {
              onSuccess: (result) => {
                setEmail('');
                setName('');
                setTenantIds([]);
                if (result.invite) setInvite({ email: result.member.email, url: result.invite });
                else
                  notifications.show({
                    color: 'green',
                    message: `${result.member.email} is a member (role ${result.member.role}).`,
                  });
              },
            },
          );
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Add a member
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label="Email"
              type="email"
              required
              value={email}
              error={existing ? 'Already a member: change their role with Edit below.' : null}
              onChange={(e) => setEmail(e.currentTarget.value)}
            />
            <TextInput
              label="Name (optional)"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
            />
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <RoleSelect value={role} onChange={setRole} />
            <TenantRestriction tenants={tenants} value={tenantIds} onChange={setTenantIds} />
          </SimpleGrid>
          <FormError error={upsert.error} />
          <Group>
            <Button type="submit" loading={upsert.isPending}>
              Add member
            </Button>
          </Group>
          {invite && (
            <ShownOnce title="Invite link" value={invite.url} testId="invite-link">
              <Text size="sm">
                Send it to {invite.email}: they join by opening it signed in with that email, or,
                new to Runwarden, by choosing a password. It works once, for 7 days.
              </Text>
            </ShownOnce>
          )}
        </Stack>
      </form>
    </Paper>
  );
}
