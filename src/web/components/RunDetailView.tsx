import {
  Accordion,
  Code,
  Group,
  List,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Timeline,
  Title,
} from '@mantine/core';
import type { ReactNode } from 'react';
import type { RunDetail } from '../api/types';
import { FleetParentLink } from './FleetParentLink';
import { RelatedLinks } from './RelatedLinks';
import { RunLineage } from './RunLineage';
import { RunLogPanel } from './RunLogPanel';
import { formatTime } from './RunTable';
import { Ago, RunTimeLine } from './RunTime';
import { TruthBadges, TruthHeadline, TruthProgress } from './Truth';
import { formatClock } from './time';

/**
 * A run's page (DESIGN §12): the decision zone first, then progress, counts, failures, the
 * timeline, related links, and diagnostics collapsed. `actions` holds what the caller may do;
 * `below` what follows the decision zone (a fleet's tenants).
 * On the system plane (`plane="system"`) related links stay on pages platform staff can open:
 * the workspace's own pages only when `member` says the caller belongs to it.
 */
export function RunDetailView({
  run,
  actions,
  below,
  plane = 'admin',
  member = plane === 'admin',
}: {
  run: RunDetail;
  actions?: ReactNode;
  below?: ReactNode;
  plane?: 'admin' | 'system';
  member?: boolean;
}) {
  const counts = Object.entries(run.summaryCounts);
  return (
    <Stack gap="lg">
      <Stack gap={4}>
        <Text size="sm" c="dimmed">
          {run.workspace.name}
          {run.tenant ? ` · ${run.tenant.name}` : ''}
        </Text>
        <Group justify="space-between" align="start">
          <Title order={1} size="h2">
            {run.typeLabel}
          </Title>
          <Group gap="xs">{actions}</Group>
        </Group>
        {run.parentId && <FleetParentLink parentId={run.parentId} plane={plane} />}
        <RunLineage run={run} plane={plane} member={member} />
      </Stack>

      <Paper withBorder p="md" data-testid="decision-zone">
        <Stack gap="sm">
          <TruthBadges truth={run.truth} />
          <TruthHeadline truth={run.truth} size="lg" />
          <RunTimeLine run={run} size="sm" />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <div>
              <Text size="xs" tt="uppercase" c="dimmed" fw={700}>
                Is it still active?
              </Text>
              <Text data-testid="still-active">{run.truth.decision.stillActive}</Text>
            </div>
            <div>
              <Text size="xs" tt="uppercase" c="dimmed" fw={700}>
                What next?
              </Text>
              <Text data-testid="what-next">
                {run.truth.decision.whatNext}
                {run.truth.deadline &&
                  ` ${run.truth.deadline.copy.replace('{time}', formatClock(run.truth.deadline.at, Date.now()))}`}
              </Text>
            </div>
          </SimpleGrid>
          {/* Said once: often "what next?" is the guidance itself. */}
          {run.truth.guidance !== run.truth.decision.whatNext && (
            <Text size="sm" c="dimmed" data-testid="guidance">
              {run.truth.guidance}
            </Text>
          )}
          <TruthProgress truth={run.truth} />
        </Stack>
      </Paper>

      {below}

      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="md">
          <Title order={2} size="h5" mb="xs">
            Counts
          </Title>
          {counts.length ? (
            <Table fz="sm">
              <Table.Tbody>
                {counts.map(([key, value]) => (
                  <Table.Tr key={key}>
                    <Table.Td>{key}</Table.Td>
                    <Table.Td>{value.toLocaleString()}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          ) : (
            <Text size="sm" c="dimmed">
              None recorded.
            </Text>
          )}
        </Paper>
        <Paper withBorder p="md">
          <Title order={2} size="h5" mb="xs">
            Failures
          </Title>
          {run.failures.length ? (
            <List size="sm" spacing={4}>
              {run.failures.map((f, i) => (
                // Failures are an append-only list; position is their identity.
                // biome-ignore lint/suspicious/noArrayIndexKey: see above
                <List.Item key={i}>
                  <Code>{f.code}</Code> {f.message}
                </List.Item>
              ))}
            </List>
          ) : (
            <Text size="sm" c="dimmed">
              None.
            </Text>
          )}
        </Paper>
      </SimpleGrid>

      <Paper withBorder p="md">
        <Title order={2} size="h5" mb="sm">
          Timeline
        </Title>
        <Timeline bulletSize={14} lineWidth={2} active={run.timeline.length - 1}>
          {run.timeline.map((event) => (
            <Timeline.Item key={event.id} title={event.title} data-kind={event.kind}>
              {event.detail && <Text size="sm">{event.detail}</Text>}
              <Text size="xs" c="dimmed">
                <Ago iso={event.at} />
              </Text>
            </Timeline.Item>
          ))}
        </Timeline>
      </Paper>

      {member && <RunLogPanel run={run} />}

      <Paper withBorder p="md">
        <Title order={2} size="h5" mb="xs">
          Related
        </Title>
        <RelatedLinks run={run} plane={plane} member={member} />
      </Paper>

      <Accordion variant="contained" data-testid="diagnostics">
        <Accordion.Item value="diagnostics">
          <Accordion.Control>Diagnostics</Accordion.Control>
          <Accordion.Panel>
            <Table fz="sm">
              <Table.Tbody>
                <Row label="Run id" value={run.id} />
                <Row label="Status / outcome" value={`${run.status} / ${run.outcome}`} />
                <Row label="Attempts" value={String(run.attempt)} />
                <Row label="Identity hash" value={run.identityHash} />
                <Row label="Queue job" value={run.diagnostics.queueJobId ?? '—'} />
                <Row label="Worker" value={run.diagnostics.workerId ?? '—'} />
                <Row label="Created" value={formatTime(run.createdAt)} />
                <Row label="Started" value={formatTime(run.startedAt)} />
                <Row label="Last heartbeat" value={formatTime(run.lastHeartbeatAt)} />
                <Row label="Completed" value={formatTime(run.completedAt)} />
              </Table.Tbody>
            </Table>
            {run.reconciliation && (
              <Json label="Reconciliation evidence" value={run.reconciliation} />
            )}
            {run.diagnostics.lateCompletions.length > 0 && (
              <Json
                label="Late completions (recorded, not applied)"
                value={run.diagnostics.lateCompletions}
              />
            )}
            <Json label="Input" value={run.diagnostics.input} />
          </Accordion.Panel>
        </Accordion.Item>
      </Accordion>
    </Stack>
  );
}

function Row({ label, value }: { label: string; value: string }) {
  return (
    <Table.Tr>
      <Table.Td c="dimmed">{label}</Table.Td>
      <Table.Td>
        <Code>{value}</Code>
      </Table.Td>
    </Table.Tr>
  );
}

function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <Stack gap={4} mt="sm">
      <Text size="sm" fw={600}>
        {label}
      </Text>
      <Code block>{JSON.stringify(value, null, 2)}</Code>
    </Stack>
  );
}
