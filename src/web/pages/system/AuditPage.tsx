import { Anchor, Code, Group, Loader, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useAudit } from '../../api/queries';
import type { AuditEntry } from '../../api/types';
import { useShell } from '../../app/workspace';
import { Ago } from '../../components/RunTime';
import { useWide } from '../../components/useWide';
import { NotFoundPage } from '../NotFoundPage';

/** `/system/audit`: who did what, when; a card per entry below the `sm` breakpoint. */
export function AuditPage() {
  const { me } = useShell();
  const audit = useAudit();
  const wide = useWide();
  if (!me.platform.capabilities.includes('system.ops.view')) return <NotFoundPage />;
  if (audit.isPending) return <Loader aria-label="Loading" />;
  const entries = audit.data?.items ?? [];
  return (
    <Stack>
      <Title order={1} size="h2">
        Audit log
      </Title>
      {wide ? (
        <Table fz="sm" data-testid="audit-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Who</Table.Th>
              <Table.Th>What</Table.Th>
              <Table.Th>Target</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {entries.map((entry) => (
              <Table.Tr key={entry.id}>
                <Table.Td>
                  <Ago iso={entry.at} size="sm" />
                </Table.Td>
                <Table.Td>{who(entry)}</Table.Td>
                <Table.Td>
                  <Code>{entry.action}</Code>
                </Table.Td>
                <Table.Td>
                  <Target entry={entry} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : (
        <Stack gap="xs" data-testid="audit-table">
          {entries.map((entry) => (
            <Paper key={entry.id} withBorder p="sm">
              <Group justify="space-between" gap="xs">
                <Code>{entry.action}</Code>
                <Ago iso={entry.at} />
              </Group>
              <Text size="sm">{who(entry)}</Text>
              <Target entry={entry} />
            </Paper>
          ))}
        </Stack>
      )}
    </Stack>
  );
}

function who(entry: AuditEntry): string {
  return `${entry.actor.email ?? entry.actor.kind}${entry.actor.kind === 'token' ? ' (API token)' : ''}`;
}

function Target({ entry }: { entry: AuditEntry }) {
  if (entry.target?.type === 'run') {
    return (
      <Anchor component={Link} to={`/system/ops/runs/${entry.target.id}`} size="sm">
        Run {entry.target.id.slice(-8)}
      </Anchor>
    );
  }
  return (
    <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
      {entry.target ? `${entry.target.type} ${entry.target.id}` : '—'}
    </Text>
  );
}
