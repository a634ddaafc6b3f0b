import type { FlowLimits } from '../../api/flow-queries';
import { formatDuration } from '../../components/time';

// A limit in words, as the flow page shows it: "2 per tenant · 40 in total", "30 per 1 min per
// tenant".

type Concurrency = NonNullable<FlowLimits['concurrency']>;
type Rate = NonNullable<FlowLimits['rate']>;
type Window = NonNullable<Rate['perTenant']>;

export function concurrencyText(concurrency: Concurrency | null | undefined): string {
  const parts = [
    concurrency?.perTenant !== undefined ? `${concurrency.perTenant} per tenant` : null,
    concurrency?.total !== undefined ? `${concurrency.total} in total` : null,
  ].filter((p) => p !== null);
  return parts.length ? parts.join(' · ') : 'No limit';
}

const windowText = (w: Window) => `${w.limit} per ${formatDuration(w.intervalSeconds * 1000)}`;

export function rateText(rate: Rate | null | undefined): string {
  const parts = [
    rate?.perTenant ? `${windowText(rate.perTenant)} per tenant` : null,
    rate?.total ? `${windowText(rate.total)} in total` : null,
  ].filter((p) => p !== null);
  return parts.length ? parts.join(' · ') : 'No limit';
}
