import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { HISTOGRAM_BINS, mergeHistograms, percentileOf } from '../domain/histogram.js';
import { keyedSql } from './rollups.js';

/** A chart's range and the width of its bars (DESIGN §11: `range=1h|24h|7d|30d`). */
export const CHART_RANGES = {
  '1h': { minutes: 60, step: 1 },
  '24h': { minutes: 1_440, step: 15 },
  '7d': { minutes: 10_080, step: 120 },
  '30d': { minutes: 43_200, step: 720 },
} as const;
export type ChartRange = keyof typeof CHART_RANGES;

export const CHART_OUTCOMES = [
  'succeeded',
  'partially_succeeded',
  'failed',
  'blocked',
  'cancelled',
  'reconciled',
] as const;
export type ChartOutcome = (typeof CHART_OUTCOMES)[number];

export interface ChartBucket {
  /** The bar's start; it spans `step` minutes. */
  at: Date;
  /** Runs that ended in it, by outcome; a reconciled run under `reconciled` only. */
  finished: Record<ChartOutcome, number>;
  /** failed + blocked + reconciled over all ended; null with none. */
  failureRate: number | null;
  /** Seconds from created (or its requested start) to started, of the runs that started. */
  waitP50: number | null;
  waitP95: number | null;
  /** Seconds from started to ended. */
  durationP50: number | null;
  durationP95: number | null;
}

export interface Chart {
  range: ChartRange;
  step: number;
  from: Date;
  to: Date;
  buckets: ChartBucket[];
}

export interface ChartQuery {
  workspaceId: string;
  range: ChartRange;
  /** Rollup tenant keys: ['*'] for every tenant, else the tenants' ids (summed). */
  tenants: readonly string[];
  /** A type, or '*' for all. */
  type: string;
  now: Date;
}

interface Row {
  at: Date;
  succeeded: string;
  partially_succeeded: string;
  failed: string;
  blocked: string;
  cancelled: string;
  reconciled: string;
  wait_hist: number[];
  duration_hist: number[];
}

/**
 * A chart from the rollups and the runs not folded yet (one statement, one snapshot: a run is in
 * one or the other, never both), bars aligned to `step` in UTC, the last one holding `now`.
 */
export async function readChart(db: Kysely<Database>, query: ChartQuery): Promise<Chart> {
  const { minutes, step } = CHART_RANGES[query.range];
  const stepMs = step * 60_000;
  const last = Math.floor(query.now.getTime() / stepMs) * stepMs;
  const count = minutes / step;
  const from = new Date(last - (count - 1) * stepMs);
  const to = new Date(last + stepMs);
  const { rows } = await sql<Row>`
    select date_bin(${`${step} minutes`}::interval, at, timestamptz 'epoch') as at,
      sum(succeeded) as succeeded, sum(partially_succeeded) as partially_succeeded,
      sum(failed) as failed, sum(blocked) as blocked, sum(cancelled) as cancelled,
      sum(reconciled) as reconciled,
      runwarden_hist_merge(wait_hist) as wait_hist,
      runwarden_hist_merge(duration_hist) as duration_hist
    from (${endedRowsSql({ ...query, types: [query.type], from })}) rows
    group by 1 order by 1`.execute(db);
  const byAt = new Map(rows.map((r) => [new Date(r.at).getTime(), r]));
  const buckets: ChartBucket[] = [];
  for (let i = 0; i < count; i++) {
    const at = from.getTime() + i * stepMs;
    buckets.push(bucketOf(new Date(at), byAt.get(at)));
  }
  return { range: query.range, step, from, to, buckets };
}

/**
 * The rollup rows of a workspace's (tenant, type) keys from `from` on, and the same of the runs not
 * folded yet, as one row set (`at` a minute or an hour).
 */
function endedRowsSql(q: {
  workspaceId: string;
  tenants: readonly string[];
  types: readonly string[];
  from: Date;
}) {
  const tenants = [...q.tenants];
  const types = [...q.types];
  const inbox = sql`(select * from run_rollup_inbox
    where workspace_id = ${q.workspaceId} and completed_at >= ${q.from})`;
  return sql`
      select at, succeeded, partially_succeeded, failed, blocked, cancelled, reconciled,
        wait_hist, duration_hist
      from run_rollups
      where workspace_id = ${q.workspaceId} and tenant = any(${tenants}::text[])
        and type = any(${types}::text[]) and at >= ${q.from}
      union all
      select completed_at,
        (outcome = 'succeeded' and not reconciled)::int, (outcome = 'partially_succeeded' and not reconciled)::int,
        (outcome = 'failed' and not reconciled)::int, (outcome = 'blocked' and not reconciled)::int,
        (outcome = 'cancelled' and not reconciled)::int, reconciled::int,
        runwarden_hist_add(${sql.lit(zeros())}::int[], wait_bin),
        runwarden_hist_add(${sql.lit(zeros())}::int[], duration_bin)
      from (${keyedSql(inbox)}) keyed
      where tenant = any(${tenants}::text[]) and type = any(${types}::text[])`;
}

/** What ended from `from` on under some (tenant, type) keys: counts by outcome and the wait histogram. */
export async function endedSince(
  db: Kysely<Database>,
  q: { workspaceId: string; tenants: readonly string[]; types: readonly string[]; from: Date },
): Promise<{ finished: Record<ChartOutcome, number>; wait: number[] }> {
  const { rows } = await sql<Omit<Row, 'at'>>`
    select sum(succeeded) as succeeded, sum(partially_succeeded) as partially_succeeded,
      sum(failed) as failed, sum(blocked) as blocked, sum(cancelled) as cancelled,
      sum(reconciled) as reconciled,
      runwarden_hist_merge(wait_hist) as wait_hist,
      runwarden_hist_merge(duration_hist) as duration_hist
    from (${endedRowsSql(q)}) rows`.execute(db);
  const row = rows[0];
  const finished = Object.fromEntries(
    CHART_OUTCOMES.map((o) => [o, Number(row?.[o] ?? 0)]),
  ) as Record<ChartOutcome, number>;
  return { finished, wait: mergeHistograms(row ? [row.wait_hist] : []) };
}

function bucketOf(at: Date, row: Row | undefined): ChartBucket {
  const finished = Object.fromEntries(
    CHART_OUTCOMES.map((o) => [o, Number(row?.[o] ?? 0)]),
  ) as Record<ChartOutcome, number>;
  const total = CHART_OUTCOMES.reduce((n, o) => n + finished[o], 0);
  const wait = mergeHistograms(row ? [row.wait_hist] : []);
  const duration = mergeHistograms(row ? [row.duration_hist] : []);
  return {
    at,
    finished,
    failureRate: total ? (finished.failed + finished.blocked + finished.reconciled) / total : null,
    waitP50: percentileOf(wait, 50),
    waitP95: percentileOf(wait, 95),
    durationP50: percentileOf(duration, 50),
    durationP95: percentileOf(duration, 95),
  };
}

function zeros(): string {
  // An empty histogram, the SQL aggregates' own start.
  return `{${new Array(HISTOGRAM_BINS).fill(0).join(',')}}`;
}
