import { Loader, Stack, Text, Title } from '@mantine/core';
import { useSystemList } from '../../api/queries';
import { useShell } from '../../app/workspace';
import { RunTable } from '../../components/RunTable';
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

/** `/system/ops/stuck` and `/system/ops/failures` for platform staff. */
export function SystemListPage({ kind }: { kind: 'stuck' | 'failures' }) {
  const { me } = useShell();
  const list = useSystemList(kind);
  if (!me.platform.capabilities.includes('system.ops.view')) return <NotFoundPage />;
  const copy = COPY[kind];
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
          runs={list.data?.items ?? []}
          link={(run) => `/system/ops/runs/${run.id}`}
          empty={copy.empty}
        />
      )}
    </Stack>
  );
}
