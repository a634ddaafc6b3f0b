import { sql } from 'kysely';
import { reconcile, staleCandidatesQuery } from '../src/lifecycle/reconciler.js';
import { percentile, queueFixture } from './queue-fixture.js';
import { fmt, progress } from './support.js';

const TERMINAL = Number(process.env.BENCH_TERMINAL ?? 1_000_000);
const ACTIVE = Number(process.env.BENCH_ACTIVE ?? 10_000);
const SWEEPS = 15;

/**
 * Reconciler sweep time when it finds nothing to do, with 10,000 fresh active runs, first over
 * 100,000 terminal runs and then over 1,000,000: the sweep reads the partial active index, so
 * history should not move the figure.
 */
export async function main(): Promise<void> {
  const f = await queueFixture('reconcile');
  try {
    const seedTerminal = async (from: number, to: number) => {
      for (let start = from; start < to; start += 100_000) {
        const end = Math.min(to, start + 100_000);
        await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome, identity_hash,
            created_at, updated_at, started_at, completed_at, summary_counts)
          select gen_random_uuid(), ${f.workspaceId}, ${f.tenantId}, 'inventory.sync', 'completed',
                 (array['succeeded','failed','partially_succeeded'])[1 + g % 3], md5(g::text),
                 now() - make_interval(secs => g), now(), now() - make_interval(secs => g),
                 now() - make_interval(secs => g), '{"items": 10}'
          from generate_series(${start + 1}::int, ${end}::int) g`.execute(f.db);
        progress(`seeded ${fmt(end)} / ${fmt(to)} terminal runs`);
      }
      await sql`analyze operation_runs`.execute(f.db);
    };
    const sweepMs = async () => {
      // Nothing to do: every active run has just been heard from (as live workers would keep them).
      await sql`update operation_runs set created_at = now(), last_heartbeat_at = case when status = 'running' then now() end
        where status in ('queued', 'running')`.execute(f.db);
      await sql`vacuum analyze operation_runs`.execute(f.db);
      const times: number[] = [];
      for (let i = 0; i < SWEEPS; i++) {
        const t0 = performance.now();
        const report = await reconcile({
          db: f.db,
          runs: f.runs,
          registry: f.registry,
          logger: f.logger,
        });
        times.push(performance.now() - t0);
        if (report.actions.some((a) => a.result === 'failed'))
          throw new Error('a fresh run was reconciled');
        if (i === 0)
          progress(
            `sweep examined ${report.examined} candidate(s), ${report.actions.length} action(s) ${JSON.stringify(report.actions[0] ?? null)}`,
          );
      }
      return times.sort((a, b) => a - b);
    };

    await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome, identity_hash, created_at, updated_at,
        started_at, last_heartbeat_at, worker_id)
      select gen_random_uuid(), ${f.workspaceId}, ${f.tenantId}, 'inventory.sync',
             case when g % 2 = 0 then 'running' else 'queued' end, 'pending', 'active-' || g, now(), now(),
             case when g % 2 = 0 then now() end, case when g % 2 = 0 then now() end, case when g % 2 = 0 then 'bench' end
      from generate_series(1, ${ACTIVE}::int) g`.execute(f.db);
    progress(`seeded ${fmt(ACTIVE)} fresh active runs`);

    const small = Math.min(100_000, TERMINAL);
    await seedTerminal(0, small);
    const atSmall = await sweepMs();
    progress(
      `sweep with ${fmt(small)} terminal: p50 ${atSmall[Math.floor(SWEEPS / 2)]?.toFixed(1)} ms`,
    );
    await seedTerminal(small, TERMINAL);
    const atLarge = await sweepMs();

    const plan = await staleCandidatesQuery(
      { db: f.db, registry: f.registry },
      new Date(),
    ).explain();
    console.log(
      `plan: ${plan
        .map((r) => Object.values(r).join(' ').trim())
        .slice(0, 2)
        .join(' | ')}`,
    );
    console.log(
      `no-op sweep, ${fmt(ACTIVE)} active + ${fmt(small)} terminal: p50 ${percentile(atSmall, 50).toFixed(1)} ms, p95 ${percentile(atSmall, 95).toFixed(1)} ms`,
    );
    console.log(
      `no-op sweep, ${fmt(ACTIVE)} active + ${fmt(TERMINAL)} terminal: p50 ${percentile(atLarge, 50).toFixed(1)} ms, p95 ${percentile(atLarge, 95).toFixed(1)} ms (target <= 100 ms)`,
    );
    console.log(
      `growth from ${fmt(small)} to ${fmt(TERMINAL)} terminal runs: ×${(percentile(atLarge, 50) / percentile(atSmall, 50)).toFixed(2)} (should stay near 1)`,
    );
  } finally {
    await f.close();
  }
}
