import { Badge, Group, Loader, Stack, Table, Text } from '@mantine/core';
import { useMembers, useRemoveMember, useTenants } from '../../api/directory-queries';
import { NotFoundPage } from '../NotFoundPage';
import { ConfirmAction } from './ConfirmAction';
import { FormError, isDenied, SettingsTitle, useManagedWorkspace } from './common';
import { MemberAddForm } from './MemberAddForm';
import { MemberEdit } from './MemberEdit';
import { restrictionLabel, roleLabel } from './member-fields';

/** `/settings/w/:workspace/members`: who may do what in a workspace (workspace.manage). */
export function MembersPage() {
  const workspace = useManagedWorkspace('workspace.manage');
  if (!workspace) return <NotFoundPage />;
  return <Members slug={workspace.slug} name={workspace.name} />;
}

function Members({ slug, name }: { slug: string; name: string }) {
  const members = useMembers(slug);
  const tenants = useTenants(slug);
  const remove = useRemoveMember(slug);
  if (isDenied(members.error)) return <NotFoundPage what="workspace" />;
  if (members.isPending || tenants.isPending) return <Loader aria-label="Loading" />;
  const tenantList = tenants.data?.items ?? [];
  return (
    <Stack>
      <SettingsTitle title="Members" workspace={name} />
      <FormError error={members.error ?? tenants.error} />
      <MemberAddForm workspace={slug} tenants={tenantList} />
      <Table.ScrollContainer minWidth={720}>
        <Table fz="sm" data-testid="members-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Member</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th>Tenants</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {members.data?.items.map((member) => (
              <Table.Tr key={member.userId} data-member={member.email}>
                <Table.Td>
                  <Text size="sm" fw={600}>
                    {member.name}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {member.email}
                  </Text>
                  {member.disabled && (
                    <Badge color="gray" size="xs">
                      Disabled
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td data-testid="member-role">{roleLabel(member.role)}</Table.Td>
                <Table.Td>{restrictionLabel(member.tenantIds, tenantList)}</Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <MemberEdit workspace={slug} member={member} tenants={tenantList} />
                    <ConfirmAction
                      label="Remove"
                      ariaLabel={`Remove ${member.email}`}
                      question={`Remove ${member.email} from ${name}? Their sessions end and the API tokens they created here are revoked at once.`}
                      onConfirm={() => remove.mutateAsync(member.userId)}
                    />
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
