import type { Registry } from 'prom-client';
import { type CompletionTotal, RUN_DURATION_BUCKETS } from '../runs/run-totals.js';

type Read = () => Promise<CompletionTotal[]>;

/**
 * `runwarden_run_completions_total` (counter) and `runwarden_run_duration_seconds` (histogram):
 * fleet-wide and monotonic, read from the ledger at scrape time (src/runs/run-totals.ts), so
 * `rate()` and `histogram_quantile()` work the same whichever API process is scraped.
 */
export function registerCompletionMetrics(registry: Registry, read: Read): void {
  // Both metrics come from one query per scrape: a scrape asks both at once, so the second
  // shares the first's query while it is in flight.
  let inFlight: Promise<CompletionTotal[]> | undefined;
  const totals = () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  registry.registerMetric(
    custom(
      'runwarden_run_completions_total',
      'Runs that reached terminal truth, by type, outcome and whether the reconciler ended them.',
      'counter',
      async () =>
        (await totals()).map((t) => ({
          labels: { type: t.type, outcome: t.outcome, reconciled: String(t.reconciled) },
          value: t.runs,
        })),
    ),
  );
  registry.registerMetric(
    custom(
      'runwarden_run_duration_seconds',
      'Time from start to terminal truth of runs that ran, by type and outcome.',
      'histogram',
      async () => histogramValues(await totals()),
    ),
  );
}

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

function histogramValues(totals: CompletionTotal[]): Value[] {
  const byLabels = new Map<string, { type: string; outcome: string; t: CompletionTotal[] }>();
  for (const t of totals) {
    const key = `${t.type}\u0000${t.outcome}`;
    const entry = byLabels.get(key) ?? { type: t.type, outcome: t.outcome, t: [] };
    entry.t.push(t);
    byLabels.set(key, entry);
  }
  const name = 'runwarden_run_duration_seconds';
  const values: Value[] = [];
  for (const { type, outcome, t } of byLabels.values()) {
    const labels = { type, outcome };
    const sum = (pick: (x: CompletionTotal) => number) => t.reduce((n, x) => n + pick(x), 0);
    RUN_DURATION_BUCKETS.forEach((le, i) => {
      values.push({
        metricName: `${name}_bucket`,
        labels: { ...labels, le },
        value: sum((x) => x.buckets[i] ?? 0),
      });
    });
    const count = sum((x) => x.timedRuns);
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
    values.push({ metricName: `${name}_sum`, labels, value: sum((x) => x.durationSeconds) });
    values.push({ metricName: `${name}_count`, labels, value: count });
  }
  return values;
}

/** A metric whose values are computed at scrape time (prom-client's collector shape). */
function custom(
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  values: () => Promise<Value[]>,
) {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    async get() {
      return { name, help, type, aggregator: 'sum' as const, values: await values() };
    },
    reset() {},
  };
  // prom-client registers any object with this shape; its types only name its own classes.
  return metric as unknown as Parameters<Registry['registerMetric']>[0];
}
