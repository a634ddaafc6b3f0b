import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { PolicyOf } from '../domain/lifecycle.js';
import type { Visibility } from '../domain/visibility.js';
import type { WaitingFacts } from '../domain/waiting.js';
import {
  listNotifications,
  markAllNotificationsRead,
  markNotificationRead,
} from './notification-reads.js';
import { loadRunSurroundings } from './run-detail.js';
import { reconciliationGauges, runGauges } from './run-gauges.js';
import { type RunLogPage, readRunLog } from './run-log-reads.js';
import {
  countBuckets,
  findRun,
  findRuns,
  type ListFilter,
  lastChangeSeq,
  listRuns,
  type RunFilter,
  type RunWithInitiator,
} from './run-reads.js';
import { ActiveTypes, summarize, type TerminalCountsCache } from './run-summary.js';
import { completionTotals } from './run-totals.js';
import { readWaiting } from './run-waiting.js';
import { type FailureQuery, failedRuns, stuckRuns } from './system-reads.js';

export interface ReadModelDeps {
  db: Kysely<Database>;
  /** Each type's lifecycle policy (callers pass `registry.policyOf`). */
  policyOf: PolicyOf;
  /** Shared by summaries (see TerminalCountsCache); undefined counts every time. */
  terminalCache?: TerminalCountsCache;
}

/**
 * The one read side of the ledger (RunService is the one write side): every surface — lists,
 * counts, dashboards, the system plane, metrics, the live stream and notifications — reads runs
 * through it, so each class and each window is decided in one place (src/domain/run-classes.ts,
 * src/domain/windows.ts) and what a caller may see is one value (src/domain/visibility.ts).
 */
export class RunReadModel {
  readonly #deps: ReadModelDeps;
  /** The types seen with active runs, for summaries (see `summarize`). */
  readonly #activeTypes = new ActiveTypes();

  constructor(deps: ReadModelDeps) {
    this.#deps = deps;
  }

  /** A run, with why it waits if it is queued. */
  async find(id: string, now = new Date()): Promise<RunWithInitiator | undefined> {
    const run = await findRun(this.#deps.db, id);
    return run && (await this.#withWaiting([run], now))[0];
  }

  /** A run's log lines after a seq, at a level or above (DESIGN §18). */
  async log(runId: string, query: Parameters<typeof readRunLog>[2]): Promise<RunLogPage> {
    return await readRunLog(this.#deps.db, runId, query);
  }

  /** The runs with these ids (the stream's re-read of changed runs), with why queued ones wait. */
  async findMany(ids: string[], now = new Date()): Promise<RunWithInitiator[]> {
    return await this.#withWaiting(await findRuns(this.#deps.db, ids), now);
  }

  /** A run page's timeline, workspace and tenant. */
  surroundings(run: RunWithInitiator) {
    return loadRunSurroundings(this.#deps.db, run);
  }

  /** A page of runs, with why its queued ones wait. */
  async list(filter: ListFilter, now: Date) {
    const page = await listRuns(this.#deps, filter, now);
    return { ...page, rows: await this.#withWaiting(page.rows, now) };
  }

  counts(filter: RunFilter, now: Date) {
    return countBuckets(this.#deps, filter, now);
  }

  summary(visibility: Visibility, now: Date) {
    return summarize({ ...this.#deps, activeTypes: this.#activeTypes }, visibility, now);
  }

  stuck(now: Date, visibility?: Visibility) {
    return stuckRuns(this.#deps, now, visibility);
  }

  failures(query: FailureQuery, now: Date, visibility?: Visibility) {
    return failedRuns(this.#deps, query, now, visibility);
  }

  /** Metrics: active and recently finished runs by type, status and problem class. */
  runGauges(now: Date) {
    return runGauges(this.#deps, now);
  }

  /** Metrics: runs reconciled in the last 24 h by reason. */
  reconciliationGauges(now: Date) {
    return reconciliationGauges(this.#deps, now);
  }

  /** Metrics: completions ever by type, outcome and reconciled, with their durations. */
  completionTotals() {
    return completionTotals(this.#deps.db);
  }

  notifications(userId: string, visibility: Visibility, limit: number) {
    return listNotifications(this.#deps.db, userId, visibility, limit);
  }

  markNotificationRead(userId: string, visibility: Visibility, id: string, now: Date) {
    return markNotificationRead(this.#deps.db, userId, visibility, id, now);
  }

  markAllNotificationsRead(userId: string, now: Date) {
    return markAllNotificationsRead(this.#deps.db, userId, now);
  }

  /** The runs, each queued one with its waiting facts (one read for them all, none if none is). */
  async #withWaiting<R extends { id: string; status: string }>(
    runs: R[],
    now: Date,
  ): Promise<Array<R & { waiting?: WaitingFacts | null }>> {
    const waiting = await readWaiting(this.#deps.db, runs, now);
    if (!waiting.size) return runs;
    return runs.map((run) => ({ ...run, waiting: waiting.get(run.id) ?? null }));
  }

  /** The last run change announced (the stream's replay: has anything happened since?). */
  lastChangeSeq() {
    return lastChangeSeq(this.#deps.db);
  }
}
