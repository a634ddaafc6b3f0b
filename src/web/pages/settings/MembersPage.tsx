import { Badge, Group, Loader, Stack, Text } from '@mantine/core';
import { useMembers, useRemoveMember, useTenants } from '../../api/directory-queries';
import { ConfirmAction } from '../../components/ConfirmAction';
import { NotFoundPage } from '../NotFoundPage';
import { FormError, isDenied, SettingsTitle, useManagedWorkspace } from './common';
import { DataList } from './DataList';
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
      <MemberAddForm workspace={slug} tenants={tenantList} members={members.data?.items ?? []} />
      <DataList
        testId="members-table"
        minWidth={720}
        rows={members.data?.items ?? []}
        rowKey={(m) => m.userId}
        attrs={(m) => ({ 'data-member': m.email })}
        columns={[
          {
            label: 'Member',
            cell: (m) => (
              <>
                <Text size="sm" fw={600}>
                  {m.name}
                </Text>
                <Text size="xs" c="dimmed">
                  {m.email}
                </Text>
                {m.disabled && (
                  <Badge color="gray" size="xs">
                    Disabled
                  </Badge>
                )}
                {m.pending && (
                  <Badge color="yellow" size="xs" data-testid="member-pending">
                    Invited
                  </Badge>
                )}
              </>
            ),
          },
          {
            label: 'Role',
            cell: (m) => <span data-testid="member-role">{roleLabel(m.role)}</span>,
          },
          { label: 'Tenants', cell: (m) => restrictionLabel(m.tenantIds, tenantList) },
          {
            label: 'Actions',
            cell: (m) => (
              <Group gap="xs" wrap="nowrap">
                <MemberEdit workspace={slug} member={m} tenants={tenantList} />
                <ConfirmAction
                  label="Remove"
                  ariaLabel={`Remove ${m.email}`}
                  question={
                    m.pending
                      ? `Withdraw the invitation of ${m.email} to ${name}? Its link stops working.`
                      : `Remove ${m.email} from ${name}? The API tokens they created here are revoked at once; nothing else of theirs changes.`
                  }
                  onConfirm={() => remove.mutateAsync(m.userId)}
                />
              </Group>
            ),
          },
        ]}
      />
    </Stack>
  );
}
