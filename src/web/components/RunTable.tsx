import { Anchor, Stack, Table, Text } from '@mantine/core';
import { Link } from 'react-router';
import type { RunView } from '../api/types';
import { tenantName, type WorkspaceAccess } from '../app/workspace';
import { TruthBadges, TruthHeadline, TruthProgress } from './Truth';

/** Run rows as every list shows them: type, scope, the run's truth, who and when. */
export function RunTable({
  runs,
  workspace,
  link = (run) => run.links.view,
  empty = 'No runs here.',
}: {
  runs: RunView[];
  workspace?: WorkspaceAccess;
  link?: (run: RunView) => string;
  empty?: string;
}) {
  if (!runs.length) {
    return (
      <Text c="dimmed" size="sm" data-testid="empty-list">
        {empty}
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table verticalSpacing="xs" highlightOnHover data-testid="run-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Operation</Table.Th>
            <Table.Th>Scope</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Started by</Table.Th>
            <Table.Th>Created</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {runs.map((run) => (
            <Table.Tr key={run.id} data-run-id={run.id}>
              <Table.Td>
                <Anchor component={Link} to={link(run)} size="sm" fw={600}>
                  {run.typeLabel}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Text size="sm">
                  {workspace ? tenantName(workspace, run.tenantId) : (run.tenantId ?? 'Workspace')}
                </Text>
              </Table.Td>
              <Table.Td>
                <Stack gap={4}>
                  <TruthBadges truth={run.truth} />
                  <TruthHeadline truth={run.truth} size="xs" />
                  <TruthProgress truth={run.truth} />
                </Stack>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{run.initiator?.name ?? 'System'}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" title={run.createdAt}>
                  {formatTime(run.createdAt)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
