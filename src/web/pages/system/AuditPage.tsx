import { Anchor, Code, Loader, Stack, Table, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useAudit } from '../../api/queries';
import { useShell } from '../../app/workspace';
import { Ago } from '../../components/RunTime';
import { NotFoundPage } from '../NotFoundPage';

/** `/system/audit`: who did what, when. */
export function AuditPage() {
  const { me } = useShell();
  const audit = useAudit();
  if (!me.platform.capabilities.includes('system.ops.view')) return <NotFoundPage />;
  if (audit.isPending) return <Loader aria-label="Loading" />;
  return (
    <Stack>
      <Title order={1} size="h2">
        Audit log
      </Title>
      <Table.ScrollContainer minWidth={720}>
        <Table fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Who</Table.Th>
              <Table.Th>What</Table.Th>
              <Table.Th>Target</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {audit.data?.items.map((entry) => (
              <Table.Tr key={entry.id}>
                <Table.Td>
                  <Ago iso={entry.at} size="sm" />
                </Table.Td>
                <Table.Td>
                  {entry.actor.email ?? entry.actor.kind}
                  {entry.actor.kind === 'token' ? ' (API token)' : ''}
                </Table.Td>
                <Table.Td>
                  <Code>{entry.action}</Code>
                </Table.Td>
                <Table.Td>
                  {entry.target?.type === 'run' ? (
                    <Anchor component={Link} to={`/system/ops/runs/${entry.target.id}`} size="sm">
                      Run {entry.target.id.slice(-8)}
                    </Anchor>
                  ) : entry.target ? (
                    `${entry.target.type} ${entry.target.id}`
                  ) : (
                    '—'
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
