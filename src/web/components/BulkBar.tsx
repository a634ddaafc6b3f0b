import { Button, Group, Paper, Text } from '@mantine/core';
import type { BulkVerb } from '../api/bulk-queries';
import type { RunSelection } from './useRunSelection';

/**
 * "N selected — Cancel… / Retry… / Clear", and "Select all N matching this filter", shown while
 * something is selected. `matching` is the bucket's count as the list shows it ("10,000+").
 */
export function BulkBar({
  selection,
  matching,
  canCancel,
  canRetry,
  onAction,
}: {
  selection: RunSelection;
  matching: string;
  canCancel: boolean;
  canRetry: boolean;
  onAction: (action: BulkVerb) => void;
}) {
  if (!selection.any) return null;
  const picked = selection.ids.length;
  return (
    <Paper withBorder p="xs" role="region" aria-label="Bulk actions" data-testid="bulk-bar">
      <Group gap="sm" justify="space-between">
        <Group gap="xs">
          <Text size="sm" fw={600} data-testid="bulk-count">
            {selection.allMatching
              ? `All ${matching} matching this filter`
              : `${picked.toLocaleString()} selected`}
          </Text>
          {!selection.allMatching && matching && matching !== picked.toLocaleString() && (
            <Button variant="subtle" size="compact-sm" onClick={selection.selectAllMatching}>
              Select all {matching} matching this filter
            </Button>
          )}
        </Group>
        <Group gap="xs">
          {canCancel && (
            <Button color="red" variant="light" size="xs" onClick={() => onAction('cancel')}>
              Cancel…
            </Button>
          )}
          {canRetry && (
            <Button variant="light" size="xs" onClick={() => onAction('retry')}>
              Retry…
            </Button>
          )}
          <Button variant="default" size="xs" onClick={selection.clear}>
            Clear
          </Button>
        </Group>
      </Group>
    </Paper>
  );
}
