import { sql } from 'kysely';
import type { RunRow } from '../db/schema.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { REASON_COPY } from '../domain/reason-copy.js';
import { systemClock } from '../domain/run.js';
import { sqlJudge } from '../domain/run-classes.js';
import { staleness } from '../domain/staleness.js';
import { WORKER_LOST_BEATS } from '../domain/worker-state.js';
import { deleteRunJob, isJobLocked, unlockWorkers } from '../execution/queue.js';
import { wakeAdmitters } from '../flow/lanes.js';
import { staleRunsQuery } from '../runs/system-reads.js';
import { askAdapter, askWaitingAdapters } from './adapters.js';
import type { ReconcileAction, ReconcileDeps, ReconcileReport } from './reconcile-report.js';
import { withSweepLock } from './sweep-lock.js';

export type { ReconcileAction, ReconcileDeps, ReconcileReport } from './reconcile-report.js';

/**
 * A sweep reaches its lock and reads its candidates in milliseconds; one that took longer than
 * this waited for the database, and the heartbeats it would judge may have been waiting too.
 */
const WAITED_MS = 2_000;

export { RECONCILE_LOCK_KEY } from './sweep-lock.js';

/**
 * One sweep (DESIGN §7.4): every active run past its lifecycle window becomes completed/failed
 * with its evidence, in one compare-and-set per run (a heartbeat or completion that lands first
 * wins); its queue job is neutralized in the same transaction. Jobs locked by workers whose
 * heartbeat is gone are released. Fresh runs are never touched; a second sweep changes nothing.
 */
export async function reconcile(
  deps: ReconcileDeps,
  options: {
    dryRun?: boolean /** tests only: sweep without the lock to exercise the per-run guards */;
    lock?: boolean;
    /**
     * When this sweeper (re)connected to the database. Heartbeats could not land while it was
     * away, so a run's heartbeat is judged only one heartbeat-loss window (3 × its heartbeat)
     * after this instant (DESIGN §16: an outage is not a death).
     */
    connectedAt?: Date;
    /**
     * Called when this sweep waited so long for the database (its connection, its lock, its
     * candidates) that it counts as (re)connected at `at`: it judges no heartbeat, and the loop
     * gives the beats one loss window from then.
     */
    onReconnected?: (at: Date) => void;
  } = {},
): Promise<ReconcileReport> {
  const report: ReconcileReport = { swept: false, examined: 0, actions: [], unlockedWorkers: [] };
  const startedAt = (deps.clock ?? systemClock)();
  if (options.lock === false) {
    report.swept = true;
    await sweep(deps, report, { ...options, startedAt });
    return report;
  }
  // Held only while this process is alive to keep it (sweep-lock.ts): a frozen holder's lock ends.
  report.swept = await withSweepLock(deps.db, deps.logger, () =>
    sweep(deps, report, { ...options, startedAt }),
  );
  const changed = report.actions.filter((a) => a.result === 'failed' || a.result === 'adapter');
  // Ended runs may have freed a flow limit's slot: the admitters look again.
  if (changed.length > 0 || (report.expired?.length ?? 0) > 0) await wakeAdmitters(deps.db);
  if (changed.length > 0 || report.unlockedWorkers.length > 0) {
    deps.logger.warn(
      {
        reconciled: changed.map((a) => ({ runId: a.runId, reasonCode: a.reasonCode })),
        unlockedWorkers: report.unlockedWorkers,
      },
      `reconciler ended ${changed.length} stale run(s)`,
    );
  }
  return report;
}

async function sweep(
  deps: ReconcileDeps,
  report: ReconcileReport,
  options: {
    dryRun?: boolean;
    connectedAt?: Date;
    onReconnected?: (at: Date) => void;
    startedAt: Date;
  },
): Promise<void> {
  const dryRun = options.dryRun ?? false;
  const clock = deps.clock ?? systemClock;
  const now = clock();
  let connectedAt = options.connectedAt?.getTime() ?? 0;
  const candidates = await staleCandidates(deps, now);
  // Heartbeats could not land while this sweep waited for the database (a partition that healed
  // before any timeout): the wait counts as an outage, so none is judged against it.
  const answeredAt = clock();
  if (answeredAt.getTime() - options.startedAt.getTime() > WAITED_MS) {
    connectedAt = Math.max(connectedAt, answeredAt.getTime());
    options.onReconnected?.(answeredAt);
  }
  const connectedFor = (now.getTime() - connectedAt) / 1000;
  report.examined = candidates.length;
  for (const run of candidates) {
    const operation = deps.registry.get(run.type);
    if (!operation) continue; // a type this process does not know: another catalog's to judge
    const verdict = staleness(run, operation.policy, now);
    if (!verdict.stale) continue;
    const action: ReconcileAction = {
      runId: run.id,
      type: run.type,
      status: run.status as 'queued' | 'running',
      reasonCode: verdict.reason,
      thresholdSeconds: verdict.thresholdSeconds,
      sinceSeconds: Math.round(verdict.sinceSeconds),
      result: 'would_fail',
    };
    report.actions.push(action);
    if (
      verdict.reason === 'run.heartbeat_lost' &&
      connectedFor < 3 * operation.policy.heartbeatSeconds
    ) {
      action.result = 'skipped';
      action.note = 'the database was just back: its heartbeat gets one loss window to land';
      continue;
    }
    if (run.status === 'queued' && (await isJobLocked(deps.db, run.id))) {
      action.result = 'skipped';
      action.note = 'its queue job is being worked on right now';
      continue;
    }
    if (dryRun) continue;
    if (operation.reconcile && (await askAdapter(deps, operation.reconcile, run, action))) continue;
    const moved = await deps.db.transaction().execute(async (trx) => {
      const result = await deps.runs.forceFail(
        run.id,
        {
          reasonCode: verdict.reason,
          message: REASON_COPY[verdict.reason].operator,
          thresholdSeconds: verdict.thresholdSeconds,
          evidence: {
            workerId: run.worker_id,
            attempt: run.attempt,
            sinceSeconds: Math.round(verdict.sinceSeconds),
            startedAt: run.started_at?.toISOString() ?? null,
          },
          source: 'reconciler',
          // Only if nothing happened since we looked: same state, no newer heartbeat.
          expect: {
            status: run.status as 'queued' | 'running',
            noHeartbeatAfter: run.last_heartbeat_at,
          },
        },
        { trx },
      );
      if (result.moved) await deleteRunJob(trx, run.id);
      return result.moved;
    });
    action.result = moved ? 'failed' : 'skipped';
    if (!moved) action.note = 'it changed while the sweep looked at it';
  }
  if (!dryRun) report.expired = await expireQueued(deps, now);
  // A fleet's parent whose children all ended but whose own completion was lost (DESIGN §19).
  if (!dryRun) report.fleetsCompleted = (await deps.runs.settleLostFleets()).parentsCompleted;
  if (!dryRun) await askWaitingAdapters(deps, report, now);
  if (!dryRun) report.unlockedWorkers = await releaseDeadWorkers(deps, now, connectedFor);
}

/**
 * Queued runs past their `expiresAt` end cancelled with `run.expired` (DESIGN §17), their job
 * removed in the same transaction; one a worker holds right now is left to its gate.
 */
async function expireQueued(deps: ReconcileDeps, now: Date): Promise<string[]> {
  const due = await deps.db
    .selectFrom('operation_runs')
    .select('id')
    .where('status', '=', 'queued')
    .where('expires_at', '<=', now)
    .limit(1000)
    .execute();
  const expired: string[] = [];
  for (const { id } of due) {
    if (await isJobLocked(deps.db, id)) continue;
    const moved = await deps.db.transaction().execute(async (trx) => {
      const result = await deps.runs.expire(id, { trx });
      if (result.moved) await deleteRunJob(trx, id);
      return result.moved;
    });
    if (moved) expired.push(id);
  }
  return expired;
}

/**
 * The active runs of known types past their lifecycle window: the `active_stale` class itself
 * (each type judged by its own policy), which `staleness` then names the reason of. Served by the
 * partial active index, so its cost follows the active set, not history.
 */
async function staleCandidates(deps: ReconcileDeps, now: Date): Promise<RunRow[]> {
  if (deps.registry.list().length === 0) return [];
  return await staleCandidatesQuery(deps, now).execute();
}

export function staleCandidatesQuery(deps: Pick<ReconcileDeps, 'db' | 'registry'>, now: Date) {
  // Types this process does not know are left out: another catalog's to judge.
  const judge = sqlJudge(
    now,
    deps.registry.list().map((op) => [op.type, op.policy] as const),
  );
  // No ORDER BY: ordering by created_at lets the planner walk the whole list index (all of
  // history) to fill the limit; unordered, it reads only the partial index of active runs.
  // Held runs are never stale; naming that lets the planner use the index that leaves them out.
  return staleRunsQuery(deps.db, judge).where('held', '=', false).limit(1000); // one sweep's worth; the next takes the rest
}

/**
 * Workers whose heartbeat is gone: release their queue locks so other workers can proceed. Each
 * is judged by its own beat interval (its row's `heartbeat_ms`): dead after WORKER_LOST_BEATS beats
 * unseen (when the workers page calls it silent, src/domain/worker-state.ts), and only once this
 * sweeper has been connected that long (their beats may not have landed yet).
 */
async function releaseDeadWorkers(
  deps: ReconcileDeps,
  now: Date,
  connectedFor: number,
): Promise<string[]> {
  // Rows written before migration 0016 say nothing: judged as their worker beat, by the queue types.
  const legacyMs =
    Math.min(5, ...deps.registry.queueOperations().map((op) => op.policy.heartbeatSeconds)) * 1000;
  const window = sql<number>`${WORKER_LOST_BEATS}::int * coalesce(heartbeat_ms, ${legacyMs})`;
  const dead = await deps.db
    .updateTable('workers')
    .set({ stopped_at: now })
    .where('stopped_at', 'is', null)
    .where(sql<boolean>`${window} <= ${connectedFor * 1000}::float8`)
    .where(sql<boolean>`last_seen_at < ${now}::timestamptz - ${window} * interval '1 millisecond'`)
    .returning(['id', 'queue_worker_ids'])
    .execute();
  const queueIds = dead.flatMap((w) => w.queue_worker_ids);
  await unlockWorkers(deps.db, queueIds);
  return dead.map((w) => w.id);
}

/**
 * Runs a sweep every `intervalSeconds` in this process until `stop()`. A sweep that cannot reach
 * the database is logged once per outage; the first sweep after it (and the first ever) judges no
 * heartbeat until one heartbeat-loss window has passed, so an outage is not taken for deaths.
 */
export function startReconcilerLoop(
  deps: ReconcileDeps,
  intervalSeconds = 5,
): { stop(): Promise<void> } {
  const clock = deps.clock ?? systemClock;
  let connectedAt: Date | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const sweepOnce = async () => {
    const reconnecting = connectedAt === undefined;
    const attemptAt = clock();
    let waitedUntil: Date | undefined;
    try {
      await reconcile(deps, {
        connectedAt: connectedAt ?? attemptAt,
        onReconnected: (at) => {
          waitedUntil = at;
        },
      });
      if (reconnecting || waitedUntil) {
        connectedAt = waitedUntil ?? attemptAt;
        deps.logger.info(
          waitedUntil
            ? 'reconciler waited for the database: heartbeats are judged after one loss window'
            : 'reconciler connected: heartbeats are judged after one loss window',
        );
      }
    } catch (error) {
      if (!isDatabaseUnavailable(error)) {
        deps.logger.error({ err: error }, 'reconcile sweep failed');
        return;
      }
      if (!reconnecting)
        deps.logger.warn(
          { err: error },
          'reconciler lost the database; it judges heartbeats one loss window after it is back',
        );
      connectedAt = undefined;
    }
  };
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return; // a sweep waiting for the database: the next one would only queue behind it
    sweeping = true;
    current = sweepOnce().finally(() => {
      sweeping = false;
    });
  }, intervalSeconds * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
