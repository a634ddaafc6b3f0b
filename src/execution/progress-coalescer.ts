import type { Logger } from 'pino';

export interface Progress {
  processed: number;
  total: number | null;
}

/** At most one progress write per run per interval (DESIGN §7.2, issue #15). */
export const PROGRESS_INTERVAL_MS = 250;

export interface CoalescerOptions {
  intervalMs?: number;
  /** Milliseconds on a monotonic clock (tests move it by hand). */
  now?: () => number;
  /** Schedules `fire` in `ms` (tests fire it by hand); returns its cancel. */
  schedule?: (fire: () => void, ms: number) => () => void;
  log: Pick<Logger, 'warn'>;
}

const timer = (fire: () => void, ms: number) => {
  const handle = setTimeout(fire, ms);
  return () => clearTimeout(handle);
};

/**
 * A handler's progress reports for one run, coalesced: the latest value wins and is written at
 * most once per interval. The first report is written at once, so the run visibly moves; later
 * ones wait for the interval. `report` never waits for the database, so a handler reporting in a
 * tight loop runs at its own speed. `take()` ends it: it waits for a write in flight and hands
 * back the value not yet written, which the caller writes with the completion in one statement
 * (or drops, on a requeue that resets progress), so no progress write ever lands after the
 * run's end is written.
 */
export class ProgressCoalescer {
  readonly #write: (progress: Progress) => Promise<unknown>;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #schedule: (fire: () => void, ms: number) => () => void;
  readonly #log: Pick<Logger, 'warn'>;
  #pending: Progress | undefined;
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  #writing: Promise<void> | undefined;
  #cancelTimer: (() => void) | undefined;
  #taken = false;
  /** Writes started so far (the first report and each interval's latest value). */
  writes = 0;

  constructor(write: (progress: Progress) => Promise<unknown>, options: CoalescerOptions) {
    this.#write = write;
    this.#intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#schedule = options.schedule ?? timer;
    this.#log = options.log;
  }

  /** Records the latest value; writes it now if the interval allows, else when it does. */
  report(progress: Progress): void {
    if (this.#taken) return; // the run's end is being written: a later report changes nothing
    this.#pending = progress;
    this.#pump();
  }

  /**
   * Stops writing: waits for a write in flight and returns the latest value not yet written
   * (undefined when the run already shows the last report).
   */
  async take(): Promise<Progress | undefined> {
    this.#taken = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    await this.#writing;
    const last = this.#pending;
    this.#pending = undefined;
    return last;
  }

  #pump(): void {
    if (this.#taken || this.#writing || this.#cancelTimer || !this.#pending) return;
    const wait = this.#lastWriteAt + this.#intervalMs - this.#now();
    if (wait > 0) {
      this.#cancelTimer = this.#schedule(() => {
        this.#cancelTimer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    const value = this.#pending;
    this.#pending = undefined;
    this.#lastWriteAt = this.#now();
    this.writes++;
    this.#writing = this.#write(value)
      .then(
        () => undefined,
        (error: unknown) => {
          // Kept for the next write (or the completion) unless a newer value came meanwhile.
          this.#pending ??= value;
          this.#log.warn({ err: error }, 'a progress write failed');
        },
      )
      .finally(() => {
        this.#writing = undefined;
        this.#pump();
      });
  }
}
