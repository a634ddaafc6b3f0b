import { Badge, Group, Loader, Stack, Table, Text } from '@mantine/core';
import { type ApiToken, useMembers, useRevokeToken, useTokens } from '../../api/directory-queries';
import { NotFoundPage } from '../NotFoundPage';
import { ConfirmAction } from './ConfirmAction';
import { absolute, ago, FormError, isDenied, SettingsTitle, useManagedWorkspace } from './common';
import { roleLabel } from './member-fields';
import { TokenCreateForm } from './TokenCreateForm';

/** `/settings/w/:workspace/tokens`: API tokens for machine clients (tokens.manage). */
export function TokensPage() {
  const workspace = useManagedWorkspace('tokens.manage');
  if (!workspace) return <NotFoundPage />;
  return <Tokens slug={workspace.slug} name={workspace.name} />;
}

function Tokens({ slug, name }: { slug: string; name: string }) {
  const tokens = useTokens(slug);
  // Only to name who created a token; a removed member's tokens were revoked with them.
  const members = useMembers(slug);
  if (isDenied(tokens.error)) return <NotFoundPage what="workspace" />;
  if (tokens.isPending) return <Loader aria-label="Loading" />;
  const who = (userId: string) =>
    members.data?.items.find((m) => m.userId === userId)?.email ?? 'A former member';
  return (
    <Stack>
      <SettingsTitle title="API tokens" workspace={name} />
      <FormError error={tokens.error} />
      <TokenCreateForm workspace={slug} />
      <Table.ScrollContainer minWidth={820}>
        <Table fz="sm" data-testid="tokens-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th>Created by</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Last used</Table.Th>
              <Table.Th>Status</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tokens.data?.items.map((token) => (
              <Table.Tr key={token.id} data-token-id={token.id}>
                <Table.Td fw={600}>{token.name}</Table.Td>
                <Table.Td>{roleLabel(token.role)}</Table.Td>
                <Table.Td>{who(token.createdBy)}</Table.Td>
                <Table.Td title={absolute(token.createdAt)}>{ago(token.createdAt)}</Table.Td>
                <Table.Td data-testid="token-last-used">
                  {token.lastUsedAt ? (
                    <span title={absolute(token.lastUsedAt)}>{ago(token.lastUsedAt)}</span>
                  ) : (
                    'Never'
                  )}
                </Table.Td>
                <Table.Td>
                  <TokenStatus workspace={slug} token={token} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {tokens.data?.items.length === 0 && (
        <Text c="dimmed" size="sm">
          No API tokens yet.
        </Text>
      )}
    </Stack>
  );
}

function TokenStatus({ workspace, token }: { workspace: string; token: ApiToken }) {
  const revoke = useRevokeToken(workspace);
  if (token.revokedAt)
    return (
      <Badge color="gray" variant="light" title={absolute(token.revokedAt)}>
        Revoked {ago(token.revokedAt)}
      </Badge>
    );
  return (
    <Group gap="xs" wrap="nowrap">
      <Badge color="green" variant="light">
        Active
      </Badge>
      <ConfirmAction
        label="Revoke"
        ariaLabel={`Revoke ${token.name}`}
        question={`Revoke ${token.name}? Anything using it gets 401 from its next request.`}
        onConfirm={() => revoke.mutateAsync(token.id)}
      />
    </Group>
  );
}
