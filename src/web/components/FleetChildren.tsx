import { Button, Chip, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { BUCKET_LABELS, LIST_BUCKETS } from '../api/filters';
import { useRunChildren } from '../api/fleet-queries';
import type { ListBucket, RunDetail, RunView } from '../api/types';
import { tenantName, type WorkspaceAccess } from '../app/workspace';
import { RunTable } from './RunTable';

const OUTCOME_WORDS: Record<string, string> = {
  succeeded: 'succeeded',
  partially_succeeded: 'partly succeeded',
  failed: 'failed',
  blocked: 'blocked',
  cancelled: 'cancelled',
};

/** "3 tenants · 2 finished: 1 succeeded, 1 failed · 1 still going · 1 skipped (inactive)". */
export function fleetSummary(run: RunDetail): string {
  const fleet = run.fleet;
  if (!fleet) return '';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const outcomes = Object.entries(OUTCOME_WORDS)
    .map(([outcome, words]) => [fleet.byOutcome[outcome] ?? 0, words] as const)
    .filter(([n]) => n > 0)
    .map(([n, words]) => `${n} ${words}`);
  const skipped = (run.diagnostics.context.skipped as { count?: number } | undefined)?.count ?? 0;
  return [
    plural(fleet.total, 'tenant'),
    `${fleet.finished} finished${outcomes.length ? `: ${outcomes.join(', ')}` : ''}`,
    fleet.total > fleet.finished ? `${fleet.total - fleet.finished} still going` : null,
    skipped ? `${skipped} skipped (inactive)` : null,
  ]
    .filter((part) => part !== null)
    .join(' · ');
}

/**
 * A fleet parent's children (DESIGN §19) with the list's buckets; keyed under `runs`, so the run
 * stream keeps them live. A child that joined a run already active says so by its tenant.
 */
export function FleetChildren({
  run,
  workspace,
}: {
  run: RunDetail;
  workspace: WorkspaceAccess | undefined;
}) {
  const [bucket, setBucket] = useState<ListBucket>('all');
  const pages = useRunChildren(run.id, bucket);
  const children = pages.data?.pages.flatMap((p) => p.items) ?? [];
  const scope = (child: RunView) =>
    child.parentId === run.id
      ? tenantName(workspace, child.tenantId)
      : `${tenantName(workspace, child.tenantId)} (joined a run already active)`;
  return (
    <Paper withBorder p="md" data-testid="fleet-children">
      <Stack gap="sm">
        <Title order={2} size="h5">
          Tenants
        </Title>
        <Text size="sm" data-testid="fleet-summary">
          {fleetSummary(run)}
        </Text>
        <Chip.Group multiple={false} value={bucket} onChange={(v) => setBucket(v as ListBucket)}>
          <Group gap="xs" role="radiogroup" aria-label="Show tenants">
            {LIST_BUCKETS.map((b) => (
              <Chip key={b} value={b} size="sm" data-testid={`children-bucket-${b}`}>
                {BUCKET_LABELS[b]}
              </Chip>
            ))}
          </Group>
        </Chip.Group>
        {pages.isPending ? (
          <Text size="sm">Loading…</Text>
        ) : pages.isError ? (
          <Text c="red" size="sm">
            {pages.error.message}
          </Text>
        ) : (
          <RunTable
            runs={children}
            workspace={workspace}
            scope={scope}
            empty="No tenants' runs here."
          />
        )}
        {pages.hasNextPage && (
          <Button
            variant="default"
            onClick={() => pages.fetchNextPage()}
            loading={pages.isFetchingNextPage}
          >
            Load more
          </Button>
        )}
      </Stack>
    </Paper>
  );
}
