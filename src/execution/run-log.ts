import type { Logger } from 'pino';
import type { RunOutcome } from '../domain/run.js';

/**
 * A worker's log of its runs, for people: each run's start and completion at `debug`, and at
 * `info` one summary line a minute (only when runs finished) — as the API logs its requests. A
 * line per run was a third of a short run's CPU in a worker process, and unreadable at hundreds a
 * second. Failures, timeouts and hand-backs keep their own lines.
 */
export class RunLog {
  #window = newWindow();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    intervalMs = 60_000,
  ) {
    const every = intervalMs >= 1000 ? `${Math.round(intervalMs / 1000)} s` : `${intervalMs} ms`;
    this.#timer = setInterval(() => this.#summarize(every), intervalMs);
    this.#timer.unref();
  }

  /** A run this worker made terminal, and how long its handler ran. */
  finished(outcome: Exclude<RunOutcome, 'pending'>, ms: number): void {
    const window = this.#window;
    window.runs += 1;
    window.outcomes[outcome] = (window.outcomes[outcome] ?? 0) + 1;
    if (window.durations.length < 10_000) window.durations.push(ms);
  }

  /** Writes what is left (a worker that stops says what it did since the last summary). */
  close(): void {
    clearInterval(this.#timer);
    this.#summarize('last interval');
  }

  #summarize(every: string): void {
    const done = this.#window;
    this.#window = newWindow();
    if (done.runs === 0) return;
    const sorted = done.durations.sort((a, b) => a - b);
    const p95 = Math.round(
      sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0,
    );
    const outcomes = Object.entries(done.outcomes)
      .sort(([, a], [, b]) => b - a)
      .map(([outcome, n]) => `${n} ${outcome.replace('_', ' ')}`)
      .join(', ');
    const since = every === 'last interval' ? 'since the last summary' : `in the last ${every}`;
    this.logger.info(
      { runs: done.runs, outcomes: done.outcomes, p95Ms: p95 },
      `worker: ${done.runs} run${done.runs === 1 ? '' : 's'} finished ${since} (${outcomes}), handler p95 ${p95} ms`,
    );
  }
}

function newWindow() {
  return { runs: 0, outcomes: {} as Record<string, number>, durations: [] as number[] };
}
