import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { usePause, usePauses, useResume } from '../api/flow-queries';
import { useOperationTypes } from '../api/queries';
import type { Pause } from '../api/types';
import { can, type WorkspaceAccess } from '../app/workspace';
import { ConfirmAction } from './ConfirmAction';
import { useNow } from './RunTime';
import { formatAbsolute, formatClock } from './time';

// Pause and resume in the console (DESIGN §17): the tenant dashboard pauses its tenant, the list
// filtered to one type pauses that type (for the filtered tenant, if any). The server decides who
// may; these hide what it would refuse: the capability to cancel runs, and a member restricted to
// some tenants acts only on a pause of one of them.

/** What a view shows: a tenant's runs, one type's runs, or one type's runs of one tenant. */
export interface PauseView {
  workspace: WorkspaceAccess;
  type?: { type: string; label: string };
  tenant?: { id: string; name: string };
}

function mayAct(workspace: WorkspaceAccess, tenantId: string | null): boolean {
  return can(workspace, 'operations.cancel') && (tenantId !== null || !workspace.restricted);
}

const exact = (view: PauseView, pause: Pause) =>
  pause.type === (view.type?.type ?? null) && pause.tenantId === (view.tenant?.id ?? null);

/** The pauses that hold some of the view's runs: its own scope first, then wider and narrower ones. */
function pausesOf(view: PauseView, pauses: Pause[]): Pause[] {
  const holds = (p: Pause) =>
    (p.type === null || !view.type || p.type === view.type.type) &&
    (p.tenantId === null || !view.tenant || p.tenantId === view.tenant.id);
  return pauses.filter(holds).sort((a, b) => Number(exact(view, b)) - Number(exact(view, a)));
}

/** "Pause tenant" or "Pause <type>", behind a confirmation; absent while that scope is paused. */
export function PauseButton({ view }: { view: PauseView }) {
  const pauses = usePauses(view.workspace.slug);
  const pause = usePause(view.workspace.slug);
  const tenantId = view.tenant?.id ?? null;
  if (!mayAct(view.workspace, tenantId) || !pauses.data) return null;
  if (pauses.data.items.some((p) => exact(view, p))) return null;
  const label = view.type ? `Pause ${view.type.label}` : 'Pause tenant';
  const what = view.type
    ? `${view.type.label}${view.tenant ? ` for ${view.tenant.name}` : ' for every tenant'}`
    : (view.tenant?.name ?? 'this workspace');
  return (
    <ConfirmAction
      label={label}
      color="indigo"
      size="sm"
      dismissLabel="Keep running"
      question={`Pause ${what}? New and queued runs wait until you resume; running runs finish.`}
      onConfirm={async () => {
        await pause.mutateAsync({ type: view.type?.type ?? null, tenantId });
        notifications.show({ color: 'green', message: `Paused ${what}.` });
      }}
    />
  );
}

/** A banner per pause holding the view's runs: who paused, when (the reader's clock), Resume. */
export function PauseBanners({ view }: { view: PauseView }) {
  const pauses = usePauses(view.workspace.slug);
  const types = useOperationTypes();
  const now = useNow();
  const resume = useResume(view.workspace.slug);
  const shown = pausesOf(view, pauses.data?.items ?? []);
  if (!shown.length) return null;
  const typeLabel = (type: string) => types.data?.find((t) => t.type === type)?.label ?? type;
  const tenantName = (id: string) =>
    view.workspace.tenants.find((t) => t.id === id)?.name ?? 'a tenant';
  const title = (p: Pause) => {
    if (p.type && p.tenantId) return `${typeLabel(p.type)} is paused for ${tenantName(p.tenantId)}`;
    if (p.type) return `${typeLabel(p.type)} is paused for every tenant`;
    if (p.tenantId) return `${tenantName(p.tenantId)} is paused`;
    return 'Everything in this workspace is paused';
  };
  return (
    <Stack gap="xs" data-testid="pause-banners">
      {shown.map((p) => (
        <Alert
          key={p.id}
          color="orange"
          title={title(p)}
          data-testid="pause-banner"
          data-pause-id={p.id}
        >
          <Group justify="space-between" gap="xs">
            <Text size="sm">
              <span data-testid="pause-by" title={formatAbsolute(p.createdAt)}>
                {p.createdByName
                  ? `Paused by ${p.createdByName} at ${formatClock(p.createdAt, now)}.`
                  : `Paused since ${formatClock(p.createdAt, now)}.`}
              </span>{' '}
              Its runs wait, queued, until resumed; running runs finish.
            </Text>
            {mayAct(view.workspace, p.tenantId) && (
              <Button
                size="xs"
                aria-label={`Resume: ${title(p)}`}
                loading={resume.isPending && resume.variables === p.id}
                onClick={() =>
                  resume.mutate(p.id, {
                    onSuccess: () =>
                      notifications.show({ color: 'green', message: `Resumed: ${title(p)}.` }),
                  })
                }
              >
                Resume
              </Button>
            )}
          </Group>
          {resume.error && resume.variables === p.id && (
            <Text c="red" size="sm" role="alert" mt="xs">
              {resume.error.message}
            </Text>
          )}
        </Alert>
      ))}
    </Stack>
  );
}
