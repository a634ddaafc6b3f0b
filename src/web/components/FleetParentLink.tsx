import { Anchor, Text } from '@mantine/core';
import { Link } from 'react-router';
import { useRun } from '../api/queries';
import { headlineText } from './Truth';

/**
 * "Part of fleet run …" on a child's page. A member restricted to some tenants may not see the
 * parent (DESIGN §19): then it is named, not linked, rather than a link to "not found".
 */
export function FleetParentLink({
  parentId,
  plane,
}: {
  parentId: string;
  plane: 'admin' | 'system';
}) {
  const parent = useRun(parentId, plane);
  if (parent.isError) {
    return (
      <Text size="sm" c="dimmed" data-testid="fleet-parent">
        Part of a fleet run across tenants.
      </Text>
    );
  }
  const to = plane === 'system' ? `/system/ops/runs/${parentId}` : `/admin/operations/${parentId}`;
  return (
    <Text size="sm" data-testid="fleet-parent">
      <Anchor component={Link} to={to} size="sm">
        Part of fleet run {parent.data ? parent.data.typeLabel : parentId.slice(0, 8)}
      </Anchor>
      {parent.data && (
        <Text span size="sm" c="dimmed">
          {' '}
          — {headlineText(parent.data.truth)}
        </Text>
      )}
    </Text>
  );
}
