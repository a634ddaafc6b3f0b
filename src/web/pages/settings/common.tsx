import { Alert, Button, Code, CopyButton, Group, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useParams } from 'react-router';
import { ApiError } from '../../api/client';
import { can, useShell } from '../../app/workspace';

/** An API error, inline next to the form that caused it (the API's own message). */
export function FormError({ error }: { error: Error | null | undefined }) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert" data-testid="form-error">
      {error.message}
    </Alert>
  );
}

/** A secret the API hands out once (an invite link, a token): copy it now or never. */
export function ShownOnce({
  title,
  value,
  testId,
  children,
}: {
  title: string;
  value: string;
  testId: string;
  children?: ReactNode;
}) {
  return (
    <Alert color="yellow" title={title} data-testid={testId}>
      <Stack gap="xs">
        <Text size="sm" fw={600}>
          Shown once: copy it now. It cannot be shown again.
        </Text>
        {children}
        <Group gap="xs" wrap="nowrap" align="center">
          <Code data-testid={`${testId}-value`} style={{ wordBreak: 'break-all' }}>
            {value}
          </Code>
          <CopyButton value={value}>
            {({ copied, copy }) => (
              <Button size="xs" variant="light" onClick={copy}>
                {copied ? 'Copied' : 'Copy'}
              </Button>
            )}
          </CopyButton>
        </Group>
      </Stack>
    </Alert>
  );
}

export interface ManagedWorkspace {
  slug: string;
  name: string;
}

/**
 * The workspace of `/settings/w/:workspace/...` when the caller may manage it: a member holding
 * `capability` there, or platform staff with `platform.directory` (who manage any workspace; the
 * API answers 404 for one that does not exist). Anyone else gets undefined: the not-found page.
 */
export function useManagedWorkspace(
  capability: 'workspace.manage' | 'tokens.manage',
): ManagedWorkspace | undefined {
  const { me } = useShell();
  const slug = useParams().workspace ?? '';
  const membership = me.workspaces.find((w) => w.slug === slug);
  if (can(membership, capability)) return { slug, name: membership?.name ?? slug };
  if (me.platform.capabilities.includes('platform.directory')) return { slug, name: slug };
  return undefined;
}

/** Denied (403) or missing (404) look the same to the caller (DESIGN §10). */
export function isDenied(error: Error | null): boolean {
  return error instanceof ApiError && (error.status === 403 || error.status === 404);
}

export function SettingsTitle({ title, workspace }: { title: string; workspace?: string }) {
  return (
    <Stack gap={0}>
      <Title order={1} size="h2">
        {title}
      </Title>
      {workspace && (
        <Text c="dimmed" size="sm">
          Settings of {workspace}
        </Text>
      )}
    </Stack>
  );
}

/** A settings dialog's last row: its refusal, then Cancel and Save. */
export function DialogFooter({
  error,
  pending,
  onCancel,
}: {
  error: Error | null | undefined;
  pending: boolean;
  onCancel: () => void;
}) {
  return (
    <>
      <FormError error={error} />
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" loading={pending}>
          Save
        </Button>
      </Group>
    </>
  );
}
