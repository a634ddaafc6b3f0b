// Pure (no imports): the chart's shapes as `GET …/charts` answers them (src/http/schemas.ts).
export type ChartOutcome =
  | 'succeeded'
  | 'partially_succeeded'
  | 'failed'
  | 'blocked'
  | 'cancelled'
  | 'reconciled';
type ListBucket = 'succeeded' | 'terminal_follow_up' | 'reconciled' | 'all';
interface ChartView {
  step: number;
  from: string;
  to: string;
  buckets: Array<{
    at: string;
    finished: Record<ChartOutcome, number>;
    failureRate: number | null;
    waitP50: number | null;
    waitP95: number | null;
    durationP50: number | null;
    durationP95: number | null;
  }>;
}

/** Each outcome's label, colour (its class's tone, as on every badge) and the list bucket that holds it. */
export const OUTCOME_SERIES: Array<{
  name: ChartOutcome;
  label: string;
  color: string;
  bucket: ListBucket;
}> = [
  { name: 'succeeded', label: 'Succeeded', color: 'green.6', bucket: 'succeeded' },
  {
    name: 'partially_succeeded',
    label: 'Partially succeeded',
    color: 'orange.6',
    bucket: 'terminal_follow_up',
  },
  { name: 'failed', label: 'Failed', color: 'red.7', bucket: 'terminal_follow_up' },
  { name: 'blocked', label: 'Blocked', color: 'red.4', bucket: 'terminal_follow_up' },
  { name: 'reconciled', label: 'Reconciled', color: 'grape.6', bucket: 'reconciled' },
  { name: 'cancelled', label: 'Cancelled', color: 'gray.6', bucket: 'all' },
];

export interface ChartRow extends Record<ChartOutcome, number> {
  label: string;
  at: string;
  end: string;
  failureRate: number | null;
  waitP50: number | null;
  waitP95: number | null;
  durationP50: number | null;
  durationP95: number | null;
}

/** A chart's bars as rows the charts draw: a label in the reader's zone, the bar's window. */
export function chartRows(chart: ChartView, locale?: string): ChartRow[] {
  const stepMs = chart.step * 60_000;
  const short = chart.step < 60;
  return chart.buckets.map((b) => {
    const at = new Date(b.at);
    return {
      ...b.finished,
      label: short
        ? at.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
        : at.toLocaleString(locale, { month: 'short', day: 'numeric', hour: '2-digit' }),
      at: b.at,
      end: new Date(at.getTime() + stepMs).toISOString(),
      failureRate: b.failureRate === null ? null : Math.round(b.failureRate * 1000) / 10,
      waitP50: b.waitP50,
      waitP95: b.waitP95,
      durationP50: b.durationP50,
      durationP95: b.durationP95,
    };
  });
}

/** Seconds as a person reads them: "350 ms", "4.2 s", "3 min", "1.5 h". */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || Number.isNaN(seconds)) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The whole chart in one sentence (what a screen reader, or a glance, takes from it). */
export function chartSummary(chart: ChartView): string {
  let ended = 0;
  let failing = 0;
  for (const b of chart.buckets) {
    const f = b.finished;
    ended +=
      f.succeeded + f.partially_succeeded + f.failed + f.blocked + f.cancelled + f.reconciled;
    failing += f.failed + f.blocked + f.reconciled;
  }
  if (ended === 0) return 'No runs ended in this range.';
  const rate = Math.round((failing / ended) * 1000) / 10;
  return `${ended.toLocaleString()} run${ended === 1 ? '' : 's'} ended; ${failing.toLocaleString()} failed, blocked or reconciled (${rate} %).`;
}
