import path from 'node:path';
import { overlap, startsInWindows } from '../test/support/flow-spans.js';
import { LIMITED, LIMITS } from './flow-catalog.js';
import {
  activeRuns,
  type FlowFixture,
  insertHeld,
  resetRuns,
  sleep,
  spansOf,
} from './flow-fixture.js';
import { fmt, progress } from './support.js';
import { drainWithProcesses } from './worker-processes.js';

const CATALOG = path.resolve(import.meta.dirname, 'flow-catalog.ts');

export interface LimitRace {
  runs: number;
  seconds: number;
  notSucceeded: number;
  maxPerTenant: number;
  maxTotal: number;
  maxStartsInWindow: number;
  /** Starts at which a tenant had more than perTenant running / all had more than total. */
  perTenantViolations: number;
  totalViolations: number;
  /** Windows of intervalSeconds (opening at each start) with more than the rate's starts. */
  rateViolations: number;
}

/**
 * `runs` held runs of the limited type over `tenants` tenants (100–700 ms each), drained by
 * `processes` real `runwarden worker` processes whose admitters race; then every limit is checked
 * from the runs' own started_at / completed_at.
 */
export async function limitRace(
  f: FlowFixture,
  options: { tenants: number; runs: number; processes: number; concurrency: number },
): Promise<LimitRace> {
  await resetRuns(f);
  const tenants = f.tenants.slice(0, options.tenants);
  const perTenant = Math.ceil(options.runs / tenants.length);
  await insertHeld(f, { type: LIMITED, tenants, perTenant, ms: 100, msStep: 100 });
  progress(
    `${fmt(perTenant * tenants.length)} limited runs; ${options.processes} worker processes x ${options.concurrency}…`,
  );
  await drainWithProcesses(f.url, {
    processes: options.processes,
    concurrency: options.concurrency,
    catalog: CATALOG,
    drained: async () => {
      let polls = 0;
      for (let left = await activeRuns(f); left > 0; left = await activeRuns(f)) {
        polls += 1;
        if (polls % 100 === 0) progress(`${fmt(left)} runs left`);
        await sleep(200);
      }
      return polls;
    },
  });
  const { spans, notSucceeded } = await spansOf(f, LIMITED);
  const o = overlap(spans);
  const w = startsInWindows(spans, LIMITS.rate.intervalSeconds);
  const first = Math.min(...spans.map((s) => s.startedAt.getTime()));
  const last = Math.max(...spans.map((s) => s.completedAt.getTime()));
  return {
    runs: spans.length,
    seconds: (last - first) / 1_000,
    notSucceeded,
    maxPerTenant: o.perKey,
    maxTotal: o.total,
    maxStartsInWindow: w.max,
    perTenantViolations: o.perKeyOver(LIMITS.perTenant),
    totalViolations: o.totalOver(LIMITS.total),
    rateViolations: w.over(LIMITS.rate.limit),
  };
}
