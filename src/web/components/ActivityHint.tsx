import { Anchor, Badge, Button, Popover, Stack, Text, VisuallyHidden } from '@mantine/core';
import { Link } from 'react-router';
import { useBucketCounts, useRuns } from '../api/queries';
import { RunTimeLine } from './RunTime';
import { TruthBadges, TruthHeadline } from './Truth';

/**
 * The caller's own active runs. Shown only while there are any; a run whose pushed update says it
 * is no longer active (terminal, reconciled) leaves at once, before the list refetches. Its
 * numbers are the list's own bucket counts for the caller's runs: "N active" is the Active tab's
 * count, the likely-stale ones are counted apart, never as active.
 */
export function ActivityHint({ workspace }: { workspace: string }) {
  const fresh = useRuns(workspace, { initiator: 'me', bucket: 'active' }, 20);
  const stale = useRuns(workspace, { initiator: 'me', bucket: 'active_stale' }, 20);
  const counts = useBucketCounts(workspace, { initiator: 'me' });
  const runs = [...(stale.data?.items ?? []), ...(fresh.data?.items ?? [])].filter(
    (run) => run.truth.bucket === 'active' || run.truth.bucket === 'active_stale',
  );
  if (!runs.length) return null;
  const counted = (bucket: 'active' | 'active_stale') =>
    counts.data?.counts[bucket] ?? runs.filter((run) => run.truth.bucket === bucket).length;
  const activeCount = counted('active');
  const staleCount = counted('active_stale');
  return (
    <Popover position="bottom-end" width="min(380px, calc(100vw - 16px))" shadow="md">
      <Popover.Target>
        {/* Default, not a light blue: its text keeps a 4.5:1 contrast (the stale badge is yellow). */}
        <Button variant="default" size="xs" px={8} data-testid="activity-hint">
          {activeCount} active
          {staleCount > 0 && (
            <Badge ml={6} size="xs" color="yellow" autoContrast>
              {staleCount}
              {/* Narrow headers drop the last words from sight, not from the button's name: what
                  is seen stays the start of what a screen reader says. */}
              <Text span inherit visibleFrom="sm">
                &nbsp;likely stale
              </Text>
              <VisuallyHidden hiddenFrom="sm"> likely stale</VisuallyHidden>
            </Badge>
          )}
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap="sm" data-testid="activity-list">
          {runs.map((run) => (
            <Stack key={run.id} gap={2} data-run-id={run.id}>
              <Anchor component={Link} to={run.links.view} size="sm" fw={600}>
                {run.typeLabel}
              </Anchor>
              <TruthBadges truth={run.truth} />
              <TruthHeadline truth={run.truth} size="xs" />
              <RunTimeLine run={run} />
            </Stack>
          ))}
          <Text size="xs" c="dimmed">
            Your runs that have not finished yet.
          </Text>
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}
