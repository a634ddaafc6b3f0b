import type { RunOutcome } from '../domain/run.js';
import { type Logger, SummaryWindow } from '../logger.js';

/**
 * A worker's log of its runs, for people: each run's start and completion at `debug`, and at
 * `info` one summary line a minute (only when runs finished) — as the API logs its requests. A
 * line per run was a third of a short run's CPU in a worker process, and unreadable at hundreds a
 * second. Failures, timeouts and hand-backs keep their own lines.
 */
export class RunLog {
  readonly #window: SummaryWindow;
  #closing = false;

  constructor(logger: Logger, intervalMs = 60_000) {
    this.#window = new SummaryWindow(intervalMs, ({ total, byKey, p95Ms, every }) => {
      const outcomes = Object.entries(byKey)
        .sort(([, a], [, b]) => b - a)
        .map(([outcome, n]) => `${n} ${outcome.replace('_', ' ')}`)
        .join(', ');
      const since = this.#closing ? 'since the last summary' : `in the last ${every}`;
      logger.info(
        { runs: total, outcomes: byKey, p95Ms },
        `worker: ${total} run${total === 1 ? '' : 's'} finished ${since} (${outcomes}), handler p95 ${p95Ms} ms`,
      );
    });
  }

  /** A run this worker made terminal, and how long its handler ran. */
  finished(outcome: Exclude<RunOutcome, 'pending'>, ms: number): void {
    this.#window.add(outcome, ms);
  }

  /** Writes what is left (a worker that stops says what it did since the last summary). */
  close(): void {
    this.#window.stop();
    this.#closing = true;
    this.#window.flush();
  }
}
