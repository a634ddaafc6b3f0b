import { Loader, Stack, Text, Title } from '@mantine/core';
import { useSystemContext } from '../../api/console-queries';
import { useSystemList } from '../../api/queries';
import type { RunView } from '../../api/types';
import { useShell } from '../../app/workspace';
import { RunTable } from '../../components/RunTable';
import { Ago } from '../../components/RunTime';
import { NotFoundPage } from '../NotFoundPage';

const COPY = {
  stuck: {
    title: 'Stuck runs',
    hint: 'Active runs past their lifecycle window, across every workspace. The reconciler ends them if nothing recovers.',
    empty: 'No stuck runs.',
  },
  failures: {
    title: 'Failures',
    hint: 'Failed, blocked, partially succeeded and reconciled runs of the last 7 days not yet marked reviewed.',
    empty: 'No failures waiting for review.',
  },
};

/**
 * `/system/ops/stuck` and `/system/ops/failures` for platform staff: runs across workspaces, named
 * by workspace and tenant; a stuck run also shows its worker and how long ago it last reported.
 */
export function SystemListPage({ kind }: { kind: 'stuck' | 'failures' }) {
  const { me } = useShell();
  const list = useSystemList(kind);
  const items = list.data?.items ?? [];
  const context = useSystemContext(items.map((run) => run.id));
  if (!me.platform.capabilities.includes('system.ops.view')) return <NotFoundPage />;
  const copy = COPY[kind];
  const names = context.data;
  const scope = (run: RunView) => {
    const found = names?.get(run.id);
    if (!found) return '…';
    return found.tenant ? `${found.workspace.name} · ${found.tenant.name}` : found.workspace.name;
  };
  const worker = (run: RunView) => {
    const found = names?.get(run.id)?.worker;
    return (
      <Stack gap={0} data-testid="stuck-worker">
        <Text size="xs" ff="monospace" title={found?.host ? `on ${found.host}` : undefined}>
          {found ? found.id : 'No worker has it'}
        </Text>
        {run.lastHeartbeatAt && <Ago iso={run.lastHeartbeatAt} prefix="last heartbeat" />}
      </Stack>
    );
  };
  return (
    <Stack>
      <Title order={1} size="h2">
        {copy.title}
      </Title>
      <Text size="sm" c="dimmed">
        {copy.hint}
      </Text>
      {list.isPending ? (
        <Loader aria-label="Loading" />
      ) : (
        <RunTable
          runs={items}
          link={(run) => `/system/ops/runs/${run.id}`}
          scope={scope}
          extra={kind === 'stuck' ? { label: 'Worker', render: worker } : undefined}
          empty={copy.empty}
        />
      )}
    </Stack>
  );
}
