import { Anchor, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import type { ClassTone } from '../../domain/run-classes';
import type { SummaryTiles } from '../../domain/windows';
import { BUCKET_LABELS, listHref } from '../api/filters';
import { useRuns, useSummary } from '../api/queries';
import type { ListBucket } from '../api/types';
import { can, type WorkspaceAccess } from '../app/workspace';
import { PauseBanners, PauseButton } from './PauseControls';
import { RunCharts } from './RunCharts';
import { RunTable } from './RunTable';
import { StartButton } from './StartDialog';
import { CLASS_COLOR } from './Truth';

/**
 * A tile opens the list bucket and range its number counts (src/domain/windows.ts), coloured in its
 * class's tone: the one the domain's CLASS_TONE gives that bucket, as on every badge.
 */
type Tile = {
  [K in keyof SummaryTiles]: { key: K; label: string; tone: ClassTone } & SummaryTiles[K];
}[keyof SummaryTiles];

const TILES: Tile[] = [
  { key: 'activeFresh', label: 'Active', bucket: 'active', range: '30d', tone: 'info' },
  {
    key: 'activeStale',
    label: 'Likely stale',
    bucket: 'active_stale',
    range: '30d',
    tone: 'caution',
  },
  {
    key: 'reconciled24h',
    label: 'Reconciled (24 h)',
    bucket: 'reconciled',
    range: '24h',
    tone: 'system',
  },
  {
    key: 'followUp7d',
    label: 'Needs follow-up (7 days)',
    bucket: 'terminal_follow_up',
    range: '7d',
    tone: 'danger',
  },
  {
    key: 'succeeded7d',
    label: 'Succeeded (7 days)',
    bucket: 'succeeded',
    range: '7d',
    tone: 'success',
  },
];

/**
 * KPI tiles from the summary endpoint, what needs attention (active-but-stale kept apart from
 * finished runs that need follow-up), and recent operations. Every tile and list opens the run
 * list filtered to the same problem class.
 */
export function Dashboard({
  title,
  workspace,
  tenant,
}: {
  title: string;
  workspace: WorkspaceAccess;
  tenant?: WorkspaceAccess['tenants'][number];
}) {
  const summary = useSummary(workspace.slug, tenant?.id);
  const scope = { ws: workspace.slug, tenant: tenant?.slug };
  const query = tenant ? { tenantId: tenant.id } : {};
  const stale = useRuns(workspace.slug, { ...query, bucket: 'active_stale' }, 5);
  const followUp = useRuns(workspace.slug, { ...query, bucket: 'terminal_follow_up' }, 5);
  const reconciled = useRuns(workspace.slug, { ...query, bucket: 'reconciled' }, 5);
  const recent = useRuns(workspace.slug, { ...query, bucket: 'all' }, 10);
  // Pauses belong to a tenant's view; the workspace overview has no pause of its own.
  const pauseView = tenant && { workspace, tenant };

  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={1} size="h2">
          {title}
        </Title>
        <Group gap="xs">
          {pauseView && <PauseButton view={pauseView} />}
          {can(workspace, 'operations.start') && (
            <StartButton workspace={workspace} tenantId={tenant?.id} />
          )}
        </Group>
      </Group>
      {pauseView && <PauseBanners view={pauseView} />}
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }} data-testid="kpi-tiles">
        {TILES.map((tile) => (
          <Paper
            key={tile.key}
            withBorder
            p="md"
            component={Link}
            to={listHref({ ...scope, bucket: tile.bucket, range: tile.range })}
            data-testid={`tile-${tile.bucket}`}
            style={{ textDecoration: 'none', color: 'inherit' }}
          >
            <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
              {tile.label}
            </Text>
            <Text
              size="xl"
              fw={700}
              c={
                summary.data && summary.data[tile.key] > 0
                  ? `${CLASS_COLOR[tile.tone]}.8`
                  : undefined
              }
            >
              {summary.data ? summary.data[tile.key].toLocaleString() : '…'}
            </Text>
          </Paper>
        ))}
      </SimpleGrid>

      <Stack gap="xs" data-testid="needs-attention">
        <Title order={2} size="h4">
          Needs attention
        </Title>
        <Section
          title="Still active, but past the lifecycle window"
          hint="These may be stuck: check the workers before retrying."
          bucket="active_stale"
          runs={stale.data?.items}
          workspace={workspace}
          scope={scope}
          testid="attention-stale"
        />
        <Section
          title="Finished and needs follow-up"
          hint="Failed, blocked or partially succeeded runs."
          bucket="terminal_follow_up"
          runs={followUp.data?.items}
          workspace={workspace}
          scope={scope}
          testid="attention-follow-up"
        />
        <Section
          title="Ended by Runwarden (reconciled)"
          hint="Nothing was progressing, so these were marked failed automatically."
          bucket="reconciled"
          runs={reconciled.data?.items}
          workspace={workspace}
          scope={scope}
          testid="attention-reconciled"
        />
      </Stack>

      <RunCharts ws={workspace.slug} tenant={tenant && { id: tenant.id, slug: tenant.slug }} />

      <Stack gap="xs">
        <Group justify="space-between">
          <Title order={2} size="h4">
            Recent operations
          </Title>
          <Anchor component={Link} to={listHref({ ...scope, bucket: 'all' })} size="sm">
            All operations
          </Anchor>
        </Group>
        <RunTable
          runs={recent.data?.items ?? []}
          workspace={workspace}
          empty="No operations yet."
        />
      </Stack>
    </Stack>
  );
}

function Section({
  title,
  hint,
  bucket,
  runs,
  workspace,
  scope,
  testid,
}: {
  title: string;
  hint: string;
  bucket: ListBucket;
  runs: import('../api/types').RunView[] | undefined;
  workspace: WorkspaceAccess;
  scope: { ws: string; tenant?: string };
  testid: string;
}) {
  return (
    <Paper withBorder p="md" data-testid={testid}>
      <Group justify="space-between" mb="xs">
        <div>
          <Text fw={600}>{title}</Text>
          <Text size="xs" c="dimmed">
            {hint}
          </Text>
        </div>
        <Anchor component={Link} to={listHref({ ...scope, bucket })} size="sm">
          Open {BUCKET_LABELS[bucket].toLowerCase()} list
        </Anchor>
      </Group>
      <RunTable runs={runs ?? []} workspace={workspace} empty="Nothing here." />
    </Paper>
  );
}
