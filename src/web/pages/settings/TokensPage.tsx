import { Badge, Group, Loader, Stack, Text } from '@mantine/core';
import { type ApiToken, useMembers, useRevokeToken, useTokens } from '../../api/directory-queries';
import { ConfirmAction } from '../../components/ConfirmAction';
import { Ago } from '../../components/RunTime';
import { NotFoundPage } from '../NotFoundPage';
import { FormError, isDenied, SettingsTitle, useManagedWorkspace } from './common';
import { DataList } from './DataList';
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
  const who = (userId: string | null) =>
    userId === null
      ? 'The platform (service)'
      : (members.data?.items.find((m) => m.userId === userId)?.email ?? 'A former member');
  return (
    <Stack>
      <SettingsTitle title="API tokens" workspace={name} />
      <FormError error={tokens.error} />
      <TokenCreateForm workspace={slug} />
      <DataList
        testId="tokens-table"
        minWidth={820}
        rows={tokens.data?.items ?? []}
        rowKey={(t) => t.id}
        attrs={(t) => ({ 'data-token': t.name })}
        columns={[
          { label: 'Name', cell: (t) => <Text fw={600}>{t.name}</Text> },
          { label: 'Role', cell: (t) => roleLabel(t.role) },
          { label: 'Kind', cell: (t) => <TokenKind token={t} /> },
          { label: 'Created by', cell: (t) => who(t.createdBy) },
          {
            label: 'Created',
            cell: (t) => <Ago iso={t.createdAt} size="sm" />,
          },
          {
            label: 'Last used',
            cell: (t) => (
              <span data-testid="token-last-used">
                {t.lastUsedAt ? <Ago iso={t.lastUsedAt} size="sm" /> : 'Never'}
              </span>
            ),
          },
          { label: 'Status', cell: (t) => <TokenStatus workspace={slug} token={t} /> },
        ]}
      />
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
      <Badge color="gray" variant="light">
        <Ago iso={token.revokedAt} prefix="Revoked" size="xs" />
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

/** A service token acts for the workspace and outlives people; a person token, for its creator. */
function TokenKind({ token }: { token: ApiToken }) {
  return token.kind === 'service' ? (
    <Badge color="violet" variant="light" data-testid="token-kind">
      Service
    </Badge>
  ) : (
    <Text size="sm" data-testid="token-kind">
      Person
    </Text>
  );
}
