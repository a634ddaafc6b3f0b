import { Anchor, Badge, Group, Text } from '@mantine/core';
import { Link } from 'react-router';
import { listHref } from '../api/filters';
import { useRun, useRuns } from '../api/queries';
import { tagSearch } from '../api/search-syntax';
import type { RunDetail } from '../api/types';
import { headlineText } from './Truth';
import { formatAbsolute } from './time';

/**
 * Under a run's title (DESIGN §18): its tags (each opens the list searched by it), the run it
 * runs again, and the runs that ran it again. Links lead only to pages the caller can open: the
 * workspace's list for its members; on the system plane, the system's run page.
 */
export function RunLineage({
  run,
  plane,
  member,
}: {
  run: RunDetail;
  plane: 'admin' | 'system';
  member: boolean;
}) {
  const runPage = plane === 'system' ? '/system/ops/runs/' : '/admin/operations/';
  return (
    <>
      {run.tags.length > 0 && (
        <Group gap={6} data-testid="run-tags" aria-label="Tags">
          {run.tags.map((tag) =>
            member ? (
              <Badge
                key={tag}
                component={Link}
                to={listHref({ ws: run.workspace.slug, search: tagSearch(tag) })}
                variant="outline"
                style={{ cursor: 'pointer', textTransform: 'none' }}
              >
                {tag}
              </Badge>
            ) : (
              <Badge key={tag} variant="outline" style={{ textTransform: 'none' }}>
                {tag}
              </Badge>
            ),
          )}
        </Group>
      )}
      {run.rerunOf && <RerunOf id={run.rerunOf} plane={plane} to={`${runPage}${run.rerunOf}`} />}
      {member && <RerunBy run={run} runPage={runPage} />}
    </>
  );
}

function RerunOf({ id, plane, to }: { id: string; plane: 'admin' | 'system'; to: string }) {
  const original = useRun(id, plane);
  if (original.isError) {
    return (
      <Text size="sm" c="dimmed" data-testid="rerun-of">
        Re-run of a run you cannot open.
      </Text>
    );
  }
  return (
    <Text size="sm" data-testid="rerun-of">
      Re-run of{' '}
      <Anchor component={Link} to={to} size="sm">
        {original.data ? `the run started ${formatAbsolute(original.data.createdAt)}` : 'a run'}
      </Anchor>
      {original.data && (
        <Text span size="sm" c="dimmed">
          {' '}
          — {headlineText(original.data.truth)}
        </Text>
      )}
    </Text>
  );
}

/** "Run again as: …", from the list filtered by `rerunOf`; nothing when none. */
function RerunBy({ run, runPage }: { run: RunDetail; runPage: string }) {
  const again = useRuns(run.workspace.slug, { rerunOf: run.id, bucket: 'all' }, 20);
  const items = again.data?.items ?? [];
  if (!items.length) return null;
  return (
    <Group gap="xs" data-testid="rerun-by">
      <Text size="sm">Run again as:</Text>
      {items.map((item) => (
        <Anchor key={item.id} component={Link} to={`${runPage}${item.id}`} size="sm">
          {formatAbsolute(item.createdAt)} ({headlineText(item.truth)})
        </Anchor>
      ))}
    </Group>
  );
}
