import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import { demoCatalog } from '../src/catalog/index.js';
import { freePort } from '../src/db/embedded/recovery.js';
import { createDb, type Db } from '../src/db/pool.js';
import { OperationRegistry } from '../src/execution/registry.js';
import { startRun } from '../src/execution/start.js';
import { RunService } from '../src/runs/run-service.js';
import { type CliProcess, spawnCli } from '../test/support/cli.js';
import { type OutageCluster, startOutageCluster } from '../test/support/outage-cluster.js';
import { progress } from './support.js';

/** Seconds the database is down, one round each (DESIGN §14: 8 s and 30 s). */
const OUTAGES = (process.env.BENCH_OUTAGES ?? '8,30').split(',').map(Number);
const RATE = Number(process.env.BENCH_OUTAGE_RATE ?? 8); // runs started per second
const RUN_SECONDS = 0.5; // each demo.sleep run
const WARMUP_SECONDS = 15; // load before the outage; the baseline is its last 10 s
const RECOVERY_CAP_SECONDS = 30; // give up measuring the return to full throughput after this
const DRAIN_SECONDS = 90; // after the load stops, how long runs may take to end
const WINDOW_SECONDS = 2;
const PASSWORD = randomBytes(12).toString('base64url');

type Phase = 'before' | 'outage' | 'after';

/**
 * PostgreSQL stopped (fast shutdown) under a steady load for 8 s and then 30 s, with real
 * `runwarden worker` and `runwarden serve` processes: runs lost, API answers during the outage,
 * and seconds from the database's return until completions are back at the pre-outage rate.
 */
export async function main(): Promise<void> {
  progress('starting a PostgreSQL the benchmark can stop…');
  const cluster = await startOutageCluster();
  const env = { DATABASE_URL: cluster.url, RUNWARDEN_DEMO_PASSWORD: PASSWORD, LOG_LEVEL: 'info' };
  const fleet: Supervised[] = [];
  const db = createDb(cluster.url, { max: 4, applicationName: 'bench-outage' });
  try {
    for (const verb of ['migrate', 'seed-demo']) {
      const cli = spawnCli([verb], env);
      const { code } = await cli.exited;
      if (code !== 0) throw new Error(`runwarden ${verb} failed:\n${cli.output().slice(-3000)}`);
    }
    const scope = await sql<{ workspace_id: string; tenant_id: string }>`
      select w.id as workspace_id, t.id as tenant_id from workspaces w
      join tenants t on t.workspace_id = w.id where w.slug = 'contoso' and t.slug = 'contoso-prod'`
      .execute(db)
      .then((r) => r.rows[0]);
    if (!scope) throw new Error('seed-demo made no contoso-prod tenant');

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    fleet.push(
      supervise('worker 1', ['worker', '--concurrency', '5'], env, /"msg":"worker started"/),
      supervise('worker 2', ['worker', '--concurrency', '5'], env, /"msg":"worker started"/),
      supervise('serve', ['serve'], { ...env, PORT: String(port) }, /Runwarden API listening/),
    );
    progress('waiting for 2 `runwarden worker --concurrency 5` and 1 `runwarden serve`…');
    await Promise.all(fleet.map((p) => p.current.waitFor(p.ready, 90_000)));
    const cookie = await login(base);

    const deps = {
      db,
      runs: new RunService({ db }),
      registry: new OperationRegistry(demoCatalog()),
    };
    const start = (tag: string) =>
      startRun(deps, {
        type: 'demo.sleep',
        workspaceId: scope.workspace_id,
        tenantId: scope.tenant_id,
        input: { seconds: RUN_SECONDS, tag },
        initiatorUserId: null,
      });

    const results: RoundResult[] = [];
    for (const [index, seconds] of OUTAGES.entries()) {
      const round = { name: `r${index + 1}`, seconds, cluster, db, base, cookie, start, fleet };
      results.push(await outageRound(round));
    }
    const lost = results.reduce((sum, r) => sum + r.lost, 0);
    const worst = Math.max(...results.map((r) => r.recoverySeconds ?? Number.POSITIVE_INFINITY));
    const shown = Number.isFinite(worst) ? worst.toFixed(1) : `>${RECOVERY_CAP_SECONDS}`;
    console.log(
      `runs lost: ${lost} (target 0); seconds to full throughput: ${shown} (target ≤ 10)`,
    );
  } finally {
    await stopAll(fleet);
    await db.destroy().catch(() => undefined);
    await cluster.destroy();
  }
}

interface RoundResult {
  lost: number;
  recoverySeconds: number | undefined;
}

interface Round {
  name: string;
  seconds: number;
  cluster: OutageCluster;
  db: Db;
  base: string;
  cookie: string;
  start: (tag: string) => Promise<unknown>;
  fleet: Supervised[];
}

async function outageRound(round: Round): Promise<RoundResult> {
  const { name, db } = round;
  progress(
    `${name}: ${RATE} runs/s of demo.sleep ${RUN_SECONDS} s; database down ${round.seconds} s`,
  );
  const tagLike = `${name}-%`;
  let phase: Phase = 'before';
  let loading = true;
  const exitsBefore = round.fleet.map((p) => p.exits.length);

  // Load: RATE starts per second, each awaited on its own; refused starts are counted.
  const starts = { acknowledged: 0, refused: 0, skipped: 0 };
  const inFlight = new Set<Promise<void>>();
  const load = (async () => {
    const began = performance.now();
    for (let i = 0; loading; i++) {
      const due = began + (i * 1000) / RATE;
      await delay(Math.max(0, due - performance.now()));
      if (inFlight.size >= 64) {
        starts.skipped += 1;
        continue;
      }
      const call: Promise<void> = round.start(`${name}-${i}`).then(
        () => {
          starts.acknowledged += 1;
        },
        () => {
          starts.refused += 1;
        },
      );
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
    }
  })();

  // API: two loops, health and a list page, status codes counted per phase.
  const codes: Record<Phase, Map<string, number>> = {
    before: new Map(),
    outage: new Map(),
    after: new Map(),
  };
  const paths = ['/api/health', '/api/workspaces/contoso/operations?limit=20'];
  const api = Promise.all(
    paths.map(async (path) => {
      while (loading) {
        const counted = phase;
        const code = await fetch(`${round.base}${path}`, {
          headers: { cookie: round.cookie },
          signal: AbortSignal.timeout(5_000),
        }).then(
          async (res) => {
            await res.arrayBuffer();
            return String(res.status);
          },
          (error: Error) => (error.name === 'TimeoutError' ? 'timeout' : 'no answer'),
        );
        const tally = codes[counted];
        tally.set(code, (tally.get(code) ?? 0) + 1);
        await delay(50);
      }
    }),
  );

  // Completions: the round's completed-run count, sampled every 250 ms while the database answers.
  const samples: Array<{ t: number; n: number }> = [];
  const sample = async () => {
    const n = await completedCount(db, tagLike).catch(() => undefined);
    if (n !== undefined) samples.push({ t: performance.now(), n });
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sample();
      await delay(250);
    }
  })();
  // The count at time t: the latest sample at or before t (nothing completes while it is down).
  const countAt = (t: number) => samples.findLast((s) => s.t <= t)?.n ?? 0;
  const rateOver = (from: number, to: number) =>
    (countAt(to) - countAt(from)) / ((to - from) / 1000);

  await delay(WARMUP_SECONDS * 1000);
  await sample();
  const stoppedAt = performance.now();
  const baseline = rateOver(stoppedAt - 10_000, stoppedAt);
  await round.cluster.stop('fast');
  phase = 'outage';
  await delay(Math.max(0, round.seconds * 1000 - (performance.now() - stoppedAt)));
  await round.cluster.start();
  const returnedAt = performance.now();
  phase = 'after';

  let recoverySeconds: number | undefined;
  const cap = returnedAt + RECOVERY_CAP_SECONDS * 1000;
  while (recoverySeconds === undefined && performance.now() < cap) {
    await delay(250);
    const now = samples.at(-1)?.t ?? 0;
    if (now > returnedAt && rateOver(now - WINDOW_SECONDS * 1000, now) >= 0.9 * baseline)
      recoverySeconds = (now - returnedAt) / 1000;
  }
  await delay(Math.max(0, returnedAt + 10_000 - performance.now())); // load on ≥ 10 s after return
  loading = false;
  await Promise.all([load, api]);
  await Promise.allSettled([...inFlight]);
  sampling = false;
  await sampler;

  // Drain: every started run should end; bounded.
  const drainDeadline = Date.now() + DRAIN_SECONDS * 1000;
  while ((await openCount(db, tagLike).catch(() => 1)) > 0 && Date.now() < drainDeadline)
    await delay(250);
  const tally = await roundTally(db, tagLike);
  const lost = tally.leftOpen + tally.failedWithoutResult;

  const downFor = ((returnedAt - stoppedAt) / 1000).toFixed(1);
  const list = (m: Map<string, number>) =>
    [...m].map(([code, n]) => `${code}×${n}`).join(', ') || 'none';
  const exits = round.fleet.flatMap((p, i) => p.exits.slice(exitsBefore[i]));
  console.log(`${name}: database down ${downFor} s (fast shutdown)`);
  console.log(
    `  runs started ${tally.started} (start calls acknowledged ${starts.acknowledged}, refused ${starts.refused}, skipped ${starts.skipped}); ` +
      `succeeded ${tally.succeeded}, failed ${tally.failed}, left non-terminal ${tally.leftOpen} ` +
      `(after ≤ ${DRAIN_SECONDS} s drain), late completions ${tally.late}`,
  );
  console.log(
    `  API during the outage: ${list(codes.outage)}; after its return: ${list(codes.after)}`,
  );
  console.log(`  process exits: ${exits.length ? exits.join('; ') : 'none'}`);
  console.log(
    `  pre-outage ${baseline.toFixed(1)} completions/s; back to ≥ 90% (${WINDOW_SECONDS} s window) ` +
      (recoverySeconds === undefined
        ? `not within ${RECOVERY_CAP_SECONDS} s`
        : `${recoverySeconds.toFixed(1)} s after the database returned`),
  );
  console.log(`  runs lost this round: ${lost} (non-terminal + failed without a late completion)`);
  return { lost, recoverySeconds };
}

async function completedCount(db: Db, tagLike: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from operation_runs
    where status = 'completed' and input->>'tag' like ${tagLike}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

async function openCount(db: Db, tagLike: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from operation_runs
    where status <> 'completed' and input->>'tag' like ${tagLike}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

async function roundTally(db: Db, tagLike: string) {
  const { rows } = await sql<Record<string, string>>`
    select count(*) as started,
      count(*) filter (where r.status = 'completed' and r.outcome = 'succeeded') as succeeded,
      count(*) filter (where r.status = 'completed' and r.outcome <> 'succeeded') as failed,
      count(*) filter (where r.status <> 'completed') as left_open,
      count(*) filter (where r.status = 'completed' and r.outcome <> 'succeeded'
        and not exists (select 1 from run_events e where e.run_id = r.id and e.kind = 'late_completion')
      ) as failed_without_result,
      (select count(*) from run_events e join operation_runs x on x.id = e.run_id
        where e.kind = 'late_completion' and x.input->>'tag' like ${tagLike}) as late
    from operation_runs r where r.input->>'tag' like ${tagLike}`.execute(db);
  const row = rows[0] ?? {};
  const n = (key: string) => Number(row[key] ?? 0);
  return {
    started: n('started'),
    succeeded: n('succeeded'),
    failed: n('failed'),
    leftOpen: n('left_open'),
    failedWithoutResult: n('failed_without_result'),
    late: n('late'),
  };
}

async function login(base: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'operator@demo.test', password: PASSWORD }),
    }).catch(() => undefined);
    const cookie = res?.headers
      .getSetCookie()
      .map((c) => c.split(';')[0] ?? '')
      .find((c) => c.startsWith('runwarden_session='));
    if (res?.status === 200 && cookie) return cookie;
    if (Date.now() > deadline) throw new Error(`login failed (${res?.status ?? 'no answer'})`);
    await delay(250);
  }
}

/** A child process restarted when it exits, as a supervisor (systemd, Kubernetes) would. */
interface Supervised {
  name: string;
  ready: RegExp;
  current: CliProcess;
  exits: string[];
  stopping: boolean;
}

function supervise(
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Supervised {
  const launch = (): CliProcess => {
    const cli = spawnCli(args, env);
    void cli.exited.then(async ({ code, signal }) => {
      if (supervised.stopping) return;
      const last = cli.output().trim().split('\n').at(-1)?.slice(0, 300) ?? '';
      supervised.exits.push(`${name} exited (${signal ?? code}), restarted; last line: ${last}`);
      await delay(1_000);
      if (!supervised.stopping) supervised.current = launch();
    });
    return cli;
  };
  const supervised: Supervised = { name, ready, exits: [], stopping: false, current: launch() };
  return supervised;
}

async function stopAll(fleet: Supervised[]): Promise<void> {
  for (const p of fleet) {
    p.stopping = true;
    p.current.child.kill('SIGTERM');
  }
  await Promise.all(
    fleet.map(async (p) => {
      const late = await Promise.race([p.current.exited, delay(30_000, 'late' as const)]);
      if (late === 'late') p.current.child.kill('SIGKILL');
    }),
  );
}
