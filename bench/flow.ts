import { admissionCost, type PlainRound, plainRound } from './flow-cost.js';
import { newcomerWaits, percentile, tenantShares } from './flow-fairness.js';
import { flowFixture } from './flow-fixture.js';
import { limitRace } from './flow-limits.js';
import { fmt, progress } from './support.js';

// Sizes (the by default; smaller through the environment on a small machine).
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const BACKLOG = env('BENCH_FLOW_BACKLOG', 10_000);
const TRIALS = env('BENCH_FLOW_TRIALS', 20);
const SHARE_TENANTS = env('BENCH_FLOW_SHARE_TENANTS', 100);
const SHARE_RUNS = env('BENCH_FLOW_SHARE_RUNS', 200);
const SHARE_MS = env('BENCH_FLOW_SHARE_MS', 100);
const SHARE_SECONDS = env('BENCH_FLOW_SHARE_SECONDS', 60);
const LIMIT_TENANTS = env('BENCH_FLOW_LIMIT_TENANTS', 50);
const LIMIT_RUNS = env('BENCH_FLOW_LIMIT_RUNS', 5_000);
const SMALL = env('BENCH_FLOW_SMALL', 1_000);
const LARGE = env('BENCH_FLOW_LARGE', 100_000);
const COST_TENANTS = 100;
const PLAIN_JOBS = env('BENCH_FLOW_PLAIN_JOBS', 2_000);
const PICKUPS = 50;
/** Which parts run (all by default): plain, cost, fairness, shares, limits. */
const PARTS = new Set(
  (process.env.BENCH_FLOW_PARTS ?? 'plain,cost,fairness,shares,limits').split(','),
);

/**
 * Flow control (DESIGN §17, issue 21): fairness (a newcomer behind a 10,000-run backlog; 100
 * backlogged tenants' shares), 0 limit violations with 3 racing worker processes, admission cost
 * at 1,000 vs 100,000 waiting runs (and the reconciler's sweep beside them), and types without
 * `flow` with and without the admitter. Figures last.
 */
export async function main(): Promise<void> {
  const f = await flowFixture(Math.max(SHARE_TENANTS, LIMIT_TENANTS, COST_TENANTS, 2));
  const figures: string[] = [];
  try {
    if (PARTS.has('plain')) {
      const rounds: PlainRound[] = [];
      // A warm-up round, then on/off in an ABBA order so the machine's drift falls on both.
      const order = [true, true, false, false, true, true, false];
      for (const [i, admission] of order.entries()) {
        const round = await plainRound(f, {
          admission,
          jobs: PLAIN_JOBS,
          pickups: PICKUPS,
          concurrency: 8,
          tag: `r${i}`,
        });
        const p50 = percentile(
          [...round.pickupsMs].sort((a, b) => a - b),
          50,
        );
        progress(
          `plain round ${i + 1}/${order.length}${i === 0 ? ' (warm-up)' : ''}, admitter ${admission ? 'on' : 'off'}: ${fmt(round.runsPerSecond)} runs/s, pickup p50 ${p50} ms`,
        );
        if (i > 0) rounds.push(round);
      }
      const of = (on: boolean) => rounds.filter((r) => r.admission === on);
      const rate = (on: boolean) => of(on).reduce((s, r) => s + r.runsPerSecond, 0) / of(on).length;
      const pickup = (on: boolean, p: number) =>
        percentile(
          of(on)
            .flatMap((r) => r.pickupsMs)
            .sort((a, b) => a - b),
          p,
        );
      figures.push(
        `types without flow (demo.sleep 0, ${fmt(PLAIN_JOBS)} runs x 3 rounds each, concurrency 8, in-process): drain ${fmt(rate(true))} runs/s with the admitter vs ${fmt(rate(false))} without: ${pct(rate(true) / rate(false) - 1)} (target within 5 %)`,
        `pickup (${3 * PICKUPS} starts each, one at a time): p50 ${pickup(true, 50)} ms / p95 ${pickup(true, 95)} ms with the admitter vs p50 ${pickup(false, 50)} ms / p95 ${pickup(false, 95)} ms without (target within 5 %)`,
      );
    }
    if (PARTS.has('cost')) {
      const small = await admissionCost(f, { waiting: SMALL, tenants: COST_TENANTS });
      const large = await admissionCost(f, { waiting: LARGE, tenants: COST_TENANTS });
      figures.push(
        `admission pass (${COST_TENANTS} lanes, up to 8 admitted per pass): ${small.passMs.toFixed(1)} ms at ${fmt(small.waiting)} waiting vs ${large.passMs.toFixed(1)} ms at ${fmt(large.waiting)}; per admitted run ${small.perRunMs.toFixed(2)} vs ${large.perRunMs.toFixed(2)} ms: x${(large.perRunMs / small.perRunMs).toFixed(2)} (target within x1.5)`,
        `reconciler sweep beside them: ${small.sweepMs.toFixed(1)} ms at ${fmt(small.waiting)} held vs ${large.sweepMs.toFixed(1)} ms at ${fmt(large.waiting)} held`,
      );
    }
    if (PARTS.has('fairness')) {
      const waits = await newcomerWaits(f, { backlog: BACKLOG, trials: TRIALS });
      figures.push(
        `fairness: tenant B's one run behind tenant A's ${fmt(BACKLOG)} queued 1 s runs (concurrency 8), created → started over ${TRIALS} trials: p50 ${fmt(percentile(waits, 50))} ms, p95 ${fmt(percentile(waits, 95))} ms, max ${fmt(waits.at(-1) ?? Number.NaN)} ms (target p95 <= 2,500 ms)`,
      );
    }
    if (PARTS.has('shares')) {
      const s = await tenantShares(f, {
        tenants: SHARE_TENANTS,
        perTenant: SHARE_RUNS,
        ms: SHARE_MS,
        seconds: SHARE_SECONDS,
      });
      figures.push(
        `fairness: ${SHARE_TENANTS} tenants x ${SHARE_RUNS} queued ${SHARE_MS} ms runs (concurrency 8), completions over ${SHARE_SECONDS} s: ${fmt(s.completions)} in all, per tenant mean ${s.mean.toFixed(1)}, min ${s.min}, max ${s.max}: max deviation ${pct(s.maxDeviation)} (target within ±10 %)`,
      );
    }
    if (PARTS.has('limits')) {
      const r = await limitRace(f, {
        tenants: LIMIT_TENANTS,
        runs: LIMIT_RUNS,
        processes: 3,
        concurrency: 8,
      });
      figures.push(
        `limits: ${fmt(r.runs)} runs, ${LIMIT_TENANTS} tenants, 3 worker processes x 8, perTenant 2 / total 20 / 10 starts per 10 s per tenant, in ${r.seconds.toFixed(0)} s: max running ${r.maxPerTenant} per tenant, ${r.maxTotal} in all, max ${r.maxStartsInWindow} starts in a 10 s window; violations: ${r.perTenantViolations} per tenant, ${r.totalViolations} total, ${r.rateViolations} rate; not succeeded ${r.notSucceeded} (target 0 violations)`,
      );
    }
  } finally {
    await f.close();
  }
  for (const line of figures) console.log(line);
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
