import { Anchor, Checkbox, Group, Paper, Stack, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { RunView } from '../api/types';
import { tenantName, type WorkspaceAccess } from '../app/workspace';
import { RunTimeLine } from './RunTime';
import { TruthBadges, TruthHeadline, TruthProgress } from './Truth';
import { formatAbsolute } from './time';
import type { RunSelection } from './useRunSelection';
import { useWide } from './useWide';

export interface RunListProps {
  runs: RunView[];
  workspace?: WorkspaceAccess;
  link?: (run: RunView) => string;
  /** Where the run belongs, in words (default: the tenant's name in `workspace`). */
  scope?: (run: RunView) => string;
  /** One more column (and card line), e.g. the worker of a stuck run. */
  extra?: { label: string; render: (run: RunView) => ReactNode };
  empty?: string;
  /** Row checkboxes (bulk actions), with one for the whole page. */
  selection?: Pick<RunSelection, 'isSelected' | 'toggle' | 'setMany'>;
}

/**
 * Runs as every list shows them: type, scope, the run's truth, who and when. Below the `sm`
 * breakpoint each run is a card instead of a row, so nothing after State is cut off on a phone.
 */
export function RunTable(props: RunListProps) {
  const wide = useWide();
  if (!props.runs.length) {
    return (
      <Text c="dimmed" size="sm" data-testid="empty-list">
        {props.empty ?? 'No runs here.'}
      </Text>
    );
  }
  return wide ? <RunRows {...props} /> : <RunCards {...props} />;
}

const defaultLink = (run: RunView) => run.links.view;

function scopeText({ scope, workspace }: RunListProps, run: RunView): string {
  return scope ? scope(run) : tenantName(workspace, run.tenantId);
}

function RunRows(props: RunListProps) {
  const { runs, link = defaultLink, extra, selection } = props;
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table verticalSpacing="xs" highlightOnHover data-testid="run-table" data-layout="table">
        <Table.Thead>
          <Table.Tr>
            {selection && (
              <Table.Th w={40}>
                <PageCheckbox runs={runs} selection={selection} />
              </Table.Th>
            )}
            <Table.Th>Operation</Table.Th>
            <Table.Th>Scope</Table.Th>
            <Table.Th>State</Table.Th>
            {extra && <Table.Th>{extra.label}</Table.Th>}
            <Table.Th>Started by</Table.Th>
            <Table.Th>When</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {runs.map((run) => (
            <Table.Tr key={run.id} data-run-id={run.id}>
              {selection && (
                <Table.Td>
                  <RowCheckbox run={run} selection={selection} />
                </Table.Td>
              )}
              <Table.Td>
                <Anchor component={Link} to={link(run)} size="sm" fw={600}>
                  {run.typeLabel}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{scopeText(props, run)}</Text>
              </Table.Td>
              <Table.Td>
                <Stack gap={4}>
                  <TruthBadges truth={run.truth} />
                  <TruthHeadline truth={run.truth} size="xs" />
                  <TruthProgress truth={run.truth} />
                </Stack>
              </Table.Td>
              {extra && <Table.Td>{extra.render(run)}</Table.Td>}
              <Table.Td>
                <Text size="sm">{startedBy(run)}</Text>
              </Table.Td>
              <Table.Td>
                <RunTimeLine run={run} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function RunCards(props: RunListProps) {
  const { runs, link = defaultLink, extra, selection } = props;
  return (
    <Stack gap="xs" data-testid="run-table" data-layout="cards">
      {selection && <PageCheckbox runs={runs} selection={selection} label="Select this page" />}
      {runs.map((run) => (
        <Paper key={run.id} withBorder p="sm" data-run-id={run.id} data-testid="run-card">
          <Stack gap={6}>
            <Group justify="space-between" align="start" wrap="nowrap" gap="xs">
              <Group gap="xs" wrap="nowrap">
                {selection && <RowCheckbox run={run} selection={selection} />}
                <Anchor component={Link} to={link(run)} size="sm" fw={600}>
                  {run.typeLabel}
                </Anchor>
              </Group>
              <TruthBadges truth={run.truth} />
            </Group>
            <Text size="xs" c="dimmed">
              {scopeText(props, run)} · {startedBy(run)}
            </Text>
            <TruthHeadline truth={run.truth} size="xs" />
            <TruthProgress truth={run.truth} />
            {extra && (
              <Group gap={6}>
                <Text size="xs" fw={600}>
                  {extra.label}:
                </Text>
                {extra.render(run)}
              </Group>
            )}
            <RunTimeLine run={run} />
          </Stack>
        </Paper>
      ))}
    </Stack>
  );
}

type RowSelection = NonNullable<RunListProps['selection']>;

function RowCheckbox({ run, selection }: { run: RunView; selection: RowSelection }) {
  return (
    <Checkbox
      aria-label={`Select ${run.typeLabel} ${run.id.slice(0, 8)}`}
      data-testid="select-run"
      checked={selection.isSelected(run.id)}
      onChange={() => selection.toggle(run.id)}
    />
  );
}

/** Ticks every run shown, or none; part-ticked when some are. */
function PageCheckbox({
  runs,
  selection,
  label,
}: {
  runs: RunView[];
  selection: RowSelection;
  label?: string;
}) {
  const picked = runs.filter((r) => selection.isSelected(r.id)).length;
  return (
    <Checkbox
      aria-label={label ? undefined : 'Select this page'}
      label={label}
      data-testid="select-page"
      checked={picked > 0 && picked === runs.length}
      indeterminate={picked > 0 && picked < runs.length}
      onChange={() =>
        selection.setMany(
          runs.map((r) => r.id),
          picked < runs.length,
        )
      }
    />
  );
}

/** The absolute time of an instant (diagnostics, audit), "—" for none. */
export const formatTime = (iso: string | null) => formatAbsolute(iso);

/** A person's name, a service token's name marked as such, or the system. */
function startedBy(run: RunView): string {
  if (!run.initiator) return 'System';
  return run.initiator.kind === 'service' ? `${run.initiator.name} (service)` : run.initiator.name;
}
