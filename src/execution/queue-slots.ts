import { EventEmitter } from 'node:events';
import type { Runner, WorkerEvents } from 'graphile-worker';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/unavailable.js';

export interface SlotKeeperOptions {
  /** Job slots this process must keep running. */
  concurrency: number;
  /** Starts a graphile-worker runner with `slots` slots reporting to `events`; `withCron`: it also fires the cron items. */
  startRunner(slots: number, events: WorkerEvents, withCron: boolean): Promise<Runner>;
  /** Resolves once the database answers. */
  probe(): Promise<void>;
  /** Releases the jobs that dead slots still hold locked (graphile-worker's `force_unlock_workers`). */
  unlock(queueWorkerIds: string[]): Promise<void>;
  /** A slot came up under this queue worker id. */
  onSlotCreated(queueWorkerId: string): void;
  onLiveChange(live: number): void;
  /** Restoring failed although the database answers: the process cannot do its work. */
  onFatal(error: unknown): void;
  /** The keeper is stopping: what serves its runners (the queue's listener) stops too. */
  onStop?(): void;
  logger: Logger;
  checkEveryMs?: number;
  /** A runner whose slots have fetched nothing but errors for this long is replaced (default 5 000). */
  stuckAfterMs?: number;
}

interface Pool {
  runner?: Runner;
  live: number;
  cron: boolean;
  ended: boolean;
  /** Set while it is replaced on purpose: its slots' ends are not deaths. */
  retiring?: boolean;
  /** When its slots' job fetches began to fail with no success since. */
  failingSince?: number;
  /** When the database first answered while its fetches kept failing. */
  answeredAt?: number;
}

const FATAL_AFTER_FAILURES = 3;

/**
 * Keeps the queue's job slots alive (DESIGN §16: no silent stop). graphile-worker ends a slot
 * for good when it cannot record a job's end ("committing seppuku" — the database went away
 * mid-job) and ends its whole runner when its cron cannot reach the database; the process would
 * go on heartbeating with fewer or no slots. The keeper counts live slots from the queue's own
 * worker events and, once the database answers again, releases the dead slots' job locks and
 * starts a runner with the missing slots, so the process is back at full concurrency within a
 * second of the database's return, without a restart.
 */
export class SlotKeeper {
  readonly #options: SlotKeeperOptions;
  readonly #pools: Pool[] = [];
  readonly #deadIds: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #restoring: Promise<void> | undefined;
  #stopping = false;
  #failures = 0;
  #stuckRestarts = 0;

  constructor(options: SlotKeeperOptions) {
    this.#options = options;
  }

  /** Starts the first runner (with cron); throws if it cannot start. */
  async start(): Promise<void> {
    await this.#add(this.#options.concurrency, true);
    this.#timer = setInterval(() => {
      this.#restoring ??= this.#restore().finally(() => {
        this.#restoring = undefined;
      });
    }, this.#options.checkEveryMs ?? 1_000);
  }

  /** Slots alive right now across this process's runners. */
  get live(): number {
    return this.#pools.filter((p) => !p.ended).reduce((sum, p) => sum + p.live, 0);
  }

  /** Graceful stop of every runner: no new jobs, in-flight jobs finish (or are aborted by the caller). */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    this.#options.onStop?.();
    await this.#restoring;
    await Promise.all(
      this.#pools
        .filter((p) => !p.ended)
        .map((p) =>
          p.runner?.stop().catch((error: unknown) => {
            this.#options.logger.warn({ err: error }, 'a queue runner did not stop cleanly');
          }),
        ),
    );
  }

  async #add(slots: number, cron: boolean): Promise<void> {
    const { logger } = this.#options;
    const events: WorkerEvents = new EventEmitter();
    const pool: Pool = { live: 0, cron, ended: false };
    events.on('worker:create', ({ worker }) => {
      pool.live++;
      this.#options.onSlotCreated(worker.workerId);
      this.#options.onLiveChange(this.live);
    });
    events.on('worker:getJob:empty', () => this.#fetched(pool));
    events.on('job:start', () => this.#fetched(pool));
    events.on('worker:getJob:error', ({ error }) => {
      if (this.#stopping || pool.failingSince !== undefined) return;
      pool.failingSince = Date.now();
      logger.warn({ err: error }, 'the queue cannot fetch jobs; retrying');
    });
    events.on('worker:stop', ({ worker, error }) => {
      pool.live--;
      this.#options.onLiveChange(this.live);
      if (this.#stopping || pool.retiring) return;
      this.#deadIds.push(worker.workerId);
      logger.error(
        { queueWorkerId: worker.workerId, err: error, live: this.live },
        'a job slot of the queue died; it is restored once the database answers',
      );
    });
    // In the list before it starts: its slots come up (and count) while the runner starts.
    this.#pools.push(pool);
    try {
      pool.runner = await this.#options.startRunner(slots, events, cron);
    } catch (error) {
      pool.ended = true;
      this.#options.onLiveChange(this.live);
      throw error;
    }
    pool.runner.promise.then(
      () => this.#ended(pool),
      (error: unknown) => this.#ended(pool, error),
    );
  }

  #fetched(pool: Pool): void {
    pool.failingSince = undefined;
    pool.answeredAt = undefined;
    this.#stuckRestarts = 0;
  }

  #ended(pool: Pool, error?: unknown): void {
    pool.ended = true;
    this.#options.onLiveChange(this.live);
    if (!this.#stopping && !pool.retiring)
      this.#options.logger.error(
        { err: error, live: this.live },
        'a queue runner stopped on its own (its cron or LISTEN connection lost the database); restoring it',
      );
  }

  async #restore(): Promise<void> {
    if (this.#stopping) return;
    if (!(await this.#retireStuck())) return;
    const { concurrency, logger } = this.#options;
    const missing = concurrency - this.live;
    const cronLost = !this.#pools.some((p) => p.cron && !p.ended);
    if (missing <= 0 && !cronLost) return;
    const dead = this.#deadIds.splice(0);
    try {
      await this.#options.probe();
      await this.#options.unlock(dead);
    } catch (error) {
      this.#deadIds.unshift(...dead);
      if (!isDatabaseUnavailable(error)) this.#failed(error);
      return; // still waiting for the database
    }
    try {
      // A runner whose slots all died holds only its LISTEN connection now: retire it.
      for (const pool of this.#pools.filter((p) => !p.ended && p.live === 0 && !p.cron)) {
        pool.ended = true;
        await pool.runner?.stop().catch(() => undefined);
      }
      const slots = Math.max(concurrency - this.live, cronLost ? 1 : 0);
      await this.#add(slots, cronLost);
      this.#failures = 0;
      logger.info(
        { restored: slots, live: this.live, concurrency, unlockedJobsOf: dead },
        `restored ${slots} job slot(s) of the queue: ${this.live} of ${concurrency} live`,
      );
    } catch (error) {
      if (!isDatabaseUnavailable(error)) this.#failed(error);
    }
  }

  /**
   * graphile-worker 0.16 caches a failed task-identifier lookup for the life of its runner (its
   * taskIdentifiers.js): a runner that booted while the database refused connections keeps live
   * slots that never fetch a job. Slots count only if they fetch: once the database answers, a
   * runner whose fetches have failed for `stuckAfterMs` is stopped, and the missing slots start
   * on a fresh runner below. False while the database does not answer.
   */
  async #retireStuck(): Promise<boolean> {
    const failing = this.#pools.filter((p) => !p.ended && p.failingSince !== undefined);
    if (failing.length === 0) return true;
    try {
      await this.#options.probe();
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        for (const pool of failing) pool.answeredAt = undefined;
        return false;
      }
    }
    // Counted from the database's answer, so slots that fetch again right after an outage stay.
    const now = Date.now();
    const after = this.#options.stuckAfterMs ?? 5_000;
    for (const pool of failing) pool.answeredAt ??= now;
    const stuck = failing.filter((p) => now - (p.answeredAt ?? now) >= after);
    if (stuck.length === 0) return true;
    this.#stuckRestarts++;
    const slots = stuck.reduce((sum, p) => sum + p.live, 0);
    this.#options.logger.warn(
      { slots, attempt: this.#stuckRestarts },
      `${slots} job slot(s) of the queue fetched no job for ${after} ms although the database answers; restarting their runner`,
    );
    if (this.#stuckRestarts > FATAL_AFTER_FAILURES) {
      this.#failed(
        new Error('the queue job slots cannot fetch jobs although the database answers'),
        true,
      );
      return false;
    }
    for (const pool of stuck) {
      pool.retiring = true;
      await pool.runner?.stop().catch(() => undefined);
      pool.ended = true;
    }
    this.#options.onLiveChange(this.live);
    return true;
  }

  #failed(error: unknown, fatal = false): void {
    this.#failures++;
    this.#options.logger.error(
      { err: error, attempt: this.#failures },
      'could not restore the queue job slots although the database answers',
    );
    if (fatal || this.#failures >= FATAL_AFTER_FAILURES) {
      this.#stopping = true;
      clearInterval(this.#timer);
      this.#options.onFatal(error);
    }
  }
}
