import { sql } from 'kysely';
import {
  activeSql,
  type Bucket,
  bucketSql,
  PROBLEM_CLASS,
  RUN_CLASSES,
  terminalSql,
} from '../domain/run-classes.js';
import { judgeAt } from './judge.js';
import type { ReadDeps } from './run-reads.js';

const DAY_MS = 24 * 3600 * 1000;

export interface RunGauge {
  labels: { type: string; status: string; truth: string };
  count: number;
}

/**
 * Active runs, and runs completed in the last 24 h, by type, status and truth (problem class):
 * each row's class from the same SQL predicates as every list (`bucketSql`).
 */
export async function runGauges(deps: ReadDeps, now: Date): Promise<RunGauge[]> {
  const judge = await judgeAt(deps.db, deps.policyOf, now);
  const bucket = bucketSql(judge);
  const grouped = (recent: boolean) =>
    deps.db
      .selectFrom('operation_runs')
      .select(['type', 'status', bucket.as('bucket'), (eb) => eb.fn.countAll<string>().as('n')])
      .where(recent ? terminalSql(judge) : activeSql(judge))
      .$if(recent, (q) => q.where('completed_at', '>=', new Date(now.getTime() - DAY_MS)))
      .groupBy(['type', 'status', sql`3`])
      .execute();
  const rows = (await Promise.all([grouped(false), grouped(true)])).flat();
  const gauges = new Map<string, RunGauge>();
  for (const row of rows) {
    const labels = {
      type: row.type,
      status: row.status,
      truth: PROBLEM_CLASS[row.bucket as Bucket],
    };
    const key = `${labels.type}|${labels.status}|${labels.truth}`;
    const gauge = gauges.get(key) ?? { labels, count: 0 };
    gauge.count += Number(row.n);
    gauges.set(key, gauge);
  }
  return [...gauges.values()];
}

/** Runs reconciled (the `reconciled` class) in the last 24 h, by reason code. */
export async function reconciliationGauges(
  deps: ReadDeps,
  now: Date,
): Promise<Array<{ reason: string; count: number }>> {
  const judge = await judgeAt(deps.db, deps.policyOf, now, false);
  const reason = sql<string>`reconciliation->>'reasonCode'`;
  const rows = await deps.db
    .selectFrom('operation_runs')
    .select([reason.as('reason'), (eb) => eb.fn.countAll<string>().as('n')])
    .where(RUN_CLASSES.reconciled.sql(judge))
    .where('completed_at', '>=', new Date(now.getTime() - DAY_MS))
    .groupBy(reason)
    .execute();
  return rows.map((row) => ({ reason: row.reason, count: Number(row.n) }));
}
