import { BarChart, LineChart } from '@mantine/charts';
import {
  Anchor,
  Group,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { type ChartRange, useChart } from '../api/chart-queries';
import { listHref } from '../api/filters';
import type { ListBucket } from '../api/types';
import {
  type ChartRow,
  chartRows,
  chartSummary,
  formatSeconds,
  OUTCOME_SERIES,
} from './chart-data';

const RANGE_OPTIONS: Array<{ value: ChartRange; label: string }> = [
  { value: '1h', label: '1 h' },
  { value: '24h', label: '24 h' },
  { value: '7d', label: '7 d' },
  { value: '30d', label: '30 d' },
];

/**
 * Runs over time (DESIGN §18), from the rollups: ended by outcome, failure rate, queue wait and
 * duration p50/p95. A bar's segment opens the list of the runs that ended in that bar, in the
 * class of that outcome; the numbers are the list's.
 */
export function RunCharts({
  ws,
  tenant,
  type,
}: {
  ws: string;
  tenant?: { id: string; slug: string };
  type?: string;
}) {
  const [range, setRange] = useState<ChartRange>('24h');
  const chart = useChart(ws, { tenantId: tenant?.id, type }, range);
  const navigate = useNavigate();
  const rows = chart.data ? chartRows(chart.data) : [];
  const href = (bucket: ListBucket, endedFrom: string, endedTo: string) =>
    listHref({ ws, tenant: tenant?.slug, type, bucket, endedFrom, endedTo });

  return (
    <Paper withBorder p="md" data-testid="run-charts">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={2} size="h4">
            Runs over time
          </Title>
          <SegmentedControl
            size="xs"
            value={range}
            onChange={(v) => setRange(v as ChartRange)}
            data={RANGE_OPTIONS}
            aria-label="Chart range"
          />
        </Group>
        {chart.isError ? (
          <Text size="sm" c="dimmed">
            The charts could not be read: {chart.error.message}
          </Text>
        ) : !chart.data ? (
          <Text size="sm">Loading…</Text>
        ) : (
          <>
            <Text size="sm" data-testid="chart-summary">
              {chartSummary(chart.data)}{' '}
              <Anchor
                component={Link}
                to={href('all', chart.data.from, chart.data.to)}
                size="sm"
                underline="always"
                data-testid="chart-range-runs"
              >
                Open them
              </Anchor>
            </Text>
            <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
              <ChartBox title="Ended, by outcome (select a bar to open its runs)">
                <BarChart
                  h={220}
                  data={rows}
                  dataKey="label"
                  type="stacked"
                  series={OUTCOME_SERIES.map(({ name, label, color }) => ({ name, label, color }))}
                  withLegend
                  legendProps={{ verticalAlign: 'bottom' }}
                  tickLine="none"
                  gridAxis="y"
                  barProps={(series) => ({
                    cursor: 'pointer',
                    onClick: (entry: { payload?: ChartRow }) => {
                      const bucket =
                        OUTCOME_SERIES.find((s) => s.name === series.name)?.bucket ?? 'all';
                      if (entry.payload)
                        navigate(href(bucket, entry.payload.at, entry.payload.end));
                    },
                  })}
                />
              </ChartBox>
              <ChartBox title="Failure rate (failed, blocked or reconciled), %">
                <LineChart
                  h={220}
                  data={rows}
                  dataKey="label"
                  series={[{ name: 'failureRate', label: 'Failure rate %', color: 'red.7' }]}
                  connectNulls={false}
                  withDots={false}
                  tickLine="none"
                  valueFormatter={(v) => `${v} %`}
                />
              </ChartBox>
              <ChartBox title="Queue wait (created → started)">
                <LineChart
                  h={220}
                  data={rows}
                  dataKey="label"
                  series={[
                    { name: 'waitP50', label: 'p50', color: 'blue.6' },
                    { name: 'waitP95', label: 'p95', color: 'blue.9' },
                  ]}
                  withLegend
                  withDots={false}
                  tickLine="none"
                  valueFormatter={(v) => formatSeconds(v)}
                />
              </ChartBox>
              <ChartBox title="Duration (started → ended)">
                <LineChart
                  h={220}
                  data={rows}
                  dataKey="label"
                  series={[
                    { name: 'durationP50', label: 'p50', color: 'teal.6' },
                    { name: 'durationP95', label: 'p95', color: 'teal.9' },
                  ]}
                  withLegend
                  withDots={false}
                  tickLine="none"
                  valueFormatter={(v) => formatSeconds(v)}
                />
              </ChartBox>
            </SimpleGrid>
          </>
        )}
      </Stack>
    </Paper>
  );
}

function ChartBox({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Stack gap={4}>
      <Text size="sm" fw={600}>
        {title}
      </Text>
      {children}
    </Stack>
  );
}
