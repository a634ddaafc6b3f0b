import { Paper, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import type { ReactNode } from 'react';

export interface Column<T> {
  label: string;
  cell: (row: T) => ReactNode;
  /** On a card, the whole width (buttons that would not fit half of a phone's). */
  wide?: boolean;
}

/**
 * A table where there is room, one card per row below `sm` (DESIGN §12: from 360 px, tables
 * become cards). `attrs` land on the row or the card alike, so a test finds either by them.
 */
export function DataList<T>({
  rows,
  columns,
  rowKey,
  attrs,
  testId,
  minWidth,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  attrs: (row: T) => Record<`data-${string}`, string>;
  testId: string;
  minWidth: number;
}) {
  const narrow = useMediaQuery('(max-width: 47.99em)');
  if (narrow)
    return (
      <Stack gap="sm" data-testid={testId}>
        {rows.map((row) => (
          <Paper key={rowKey(row)} withBorder p="sm" {...attrs(row)}>
            <SimpleGrid cols={2} spacing="xs" verticalSpacing="xs">
              {columns.map((column) => (
                <Stack
                  key={column.label}
                  gap={0}
                  style={column.wide ? { gridColumn: '1 / -1' } : undefined}
                >
                  <Text size="xs" c="dimmed">
                    {column.label}
                  </Text>
                  <Text size="sm" component="div">
                    {column.cell(row)}
                  </Text>
                </Stack>
              ))}
            </SimpleGrid>
          </Paper>
        ))}
      </Stack>
    );
  return (
    <Table.ScrollContainer minWidth={minWidth}>
      <Table fz="sm" data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((column) => (
              <Table.Th key={column.label}>{column.label}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={rowKey(row)} {...attrs(row)}>
              {columns.map((column) => (
                <Table.Td key={column.label}>{column.cell(row)}</Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
