import { Anchor, Group, Text } from '@mantine/core';
import { Link } from 'react-router';
import { listHref } from '../api/filters';
import type { RunDetail } from '../api/types';

/**
 * A run's related pages. Each link opens a page the caller can see: the workspace's own pages only
 * for its members; platform staff stay on the system plane (its run page, stuck and failure lists).
 */
export function RelatedLinks({
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
    <Group gap="lg" data-testid="related-links">
      {member ? (
        <>
          <Anchor component={Link} to={`/admin/w/${run.workspace.slug}`} size="sm">
            {run.workspace.name} overview
          </Anchor>
          {run.tenant && (
            <Anchor component={Link} to={`/admin/t/${run.tenant.slug}`} size="sm">
              {run.tenant.name} dashboard
            </Anchor>
          )}
          <Anchor
            component={Link}
            to={listHref({ ws: run.workspace.slug, type: run.type })}
            size="sm"
          >
            Other {run.typeLabel} runs
          </Anchor>
        </>
      ) : (
        <Text size="sm" c="dimmed">
          {run.workspace.name}
          {run.tenant ? ` · ${run.tenant.name}` : ''}
        </Text>
      )}
      {plane === 'system' && (
        <>
          <Anchor component={Link} to="/system/ops/stuck" size="sm">
            Stuck runs
          </Anchor>
          <Anchor component={Link} to="/system/ops/failures" size="sm">
            Failures
          </Anchor>
        </>
      )}
      {run.retryOf && (
        <Anchor component={Link} to={`${runPage}${run.retryOf}`} size="sm">
          The run this retries
        </Anchor>
      )}
    </Group>
  );
}
