import { useQuery } from '@tanstack/react-query';
import type { ChartView } from '../../http/schemas';
import { api, qs } from './client';

export type ChartRange = ChartView['range'];

/** How often a chart reads again: its last bar is the current minute's, still filling. */
const LIVE_MS = 15_000;

export function useChart(
  ws: string,
  scope: { tenantId?: string; type?: string },
  range: ChartRange,
) {
  return useQuery({
    queryKey: ['chart', ws, scope.tenantId, scope.type, range],
    queryFn: () =>
      api<ChartView>(
        `/api/workspaces/${ws}/charts${qs({ range, tenantId: scope.tenantId, type: scope.type })}`,
      ),
    refetchInterval: LIVE_MS,
  });
}
