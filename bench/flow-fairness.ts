import { sql } from 'kysely';
import { BACKLOG } from './flow-catalog.js';
import { type FlowFixture, insertHeld, resetRuns, sleep } from './flow-fixture.js';
import { percentile } from './queue-fixture.js';
import { fmt, progress } from './support.js';

const CONCURRENCY = 8;

/**
 * Tenant A has `backlog` held runs of a 1 s handler; tenant B starts one at a time, `trials`
 * times, at staggered moments of A's cycle: B's wait, created → started, in ms (sorted).
 */
export async function newcomerWaits(
  f: FlowFixture,
  options: { backlog: number; trials: number },
): Promise<number[]> {
  await resetRuns(f);
  const [a, b] = f.tenants as [string, string];
  await insertHeld(f, { type: BACKLOG, tenants: [a], perTenant: options.backlog, ms: 1_000 });
  const worker = await f.startWorker({ concurrency: CONCURRENCY });
  try {
    // Warm: every slot busy with A's runs, and A's next ones admitted behind them.
    while ((await startedCount(f)) < 2 * CONCURRENCY) await sleep(100);
    const waits: number[] = [];
    for (let i = 0; i < options.trials; i++) {
      await sleep((i * 379) % 1_000); // a different moment of A's one-second cycle each time
      const run = await f.startFor(BACKLOG, b, { n: i, ms: 1_000 });
      for (;;) {
        const row = await f.runs.get(run.id);
        if (row?.started_at) {
          waits.push(row.started_at.getTime() - row.created_at.getTime());
          break;
        }
        await sleep(10);
      }
    }
    progress(`tenant B's waits behind ${fmt(options.backlog)} of A's: ${waits.join(', ')} ms`);
    return waits.sort((x, y) => x - y);
  } finally {
    await worker.stop();
  }
}

export interface Shares {
  completions: number;
  mean: number;
  min: number;
  max: number;
  /** The largest |share / equal share − 1| over the tenants. */
  maxDeviation: number;
}

/**
 * `tenants` tenants with `perTenant` held runs each (of `ms`): completions per tenant over
 * `seconds`, counted after a warm-up, with one worker at CONCURRENCY.
 */
export async function tenantShares(
  f: FlowFixture,
  options: { tenants: number; perTenant: number; ms: number; seconds: number },
): Promise<Shares> {
  await resetRuns(f);
  const tenants = f.tenants.slice(0, options.tenants);
  await insertHeld(f, { type: BACKLOG, tenants, perTenant: options.perTenant, ms: options.ms });
  const worker = await f.startWorker({ concurrency: CONCURRENCY });
  let from: Date;
  let to: Date;
  try {
    while ((await startedCount(f)) < 4 * CONCURRENCY) await sleep(100);
    from = new Date();
    progress(`counting completions over ${options.seconds} s…`);
    await sleep(options.seconds * 1_000);
    to = new Date();
  } finally {
    await worker.stop();
  }
  const { rows } = await sql<{ tenant_id: string; n: number }>`
    select t.id as tenant_id, count(r.id)::int as n
    from unnest(${tenants}::uuid[]) t(id)
    left join operation_runs r on r.tenant_id = t.id and r.type = ${BACKLOG}
      and r.completed_at >= ${from} and r.completed_at < ${to}
    group by t.id`.execute(f.db);
  const counts = rows.map((r) => r.n);
  const completions = counts.reduce((s, n) => s + n, 0);
  const mean = completions / counts.length;
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  if (max >= options.perTenant) progress('a tenant ran out of queued runs: the window is too long');
  return { completions, mean, min, max, maxDeviation: Math.max(max / mean - 1, 1 - min / mean) };
}

async function startedCount(f: FlowFixture): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from operation_runs
    where started_at is not null`.execute(f.db);
  return rows[0]?.n ?? 0;
}

export { percentile };
