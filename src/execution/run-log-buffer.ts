import type { Logger } from 'pino';
import type { LogLine, RunLogCaps } from '../domain/run-log-lines.js';

/** At most one log write per run per interval, as for progress (DESIGN §18). */
export const LOG_INTERVAL_MS = 250;
/** Lines per statement. */
export const LOG_BATCH_LINES = 500;

export interface LogBufferOptions {
  caps: RunLogCaps;
  intervalMs?: number;
  log: Pick<Logger, 'warn'>;
}

/**
 * A handler's log lines for one attempt, written in batches: `add` never waits for the database,
 * the first line is written at once and later ones at most once per interval (a batch of every
 * line since), one write at a time. Lines no run could keep (more than the cap) are only counted
 * while they wait, so a handler logging in a tight loop holds little memory. `close()` ends it at
 * the attempt's end: it waits for a write in flight and writes what is left, before the run's end
 * is written, so a normal end loses no line.
 */
export class RunLogBuffer {
  readonly #write: (lines: LogLine[], alsoDropped: number) => Promise<unknown>;
  readonly #caps: RunLogCaps;
  readonly #intervalMs: number;
  readonly #log: Pick<Logger, 'warn'>;
  #pending: LogLine[] = [];
  #pendingBytes = 0;
  #dropped = 0;
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Writes started so far. */
  writes = 0;

  constructor(
    write: (lines: LogLine[], alsoDropped: number) => Promise<unknown>,
    options: LogBufferOptions,
  ) {
    this.#write = write;
    this.#caps = options.caps;
    this.#intervalMs = options.intervalMs ?? LOG_INTERVAL_MS;
    this.#log = options.log;
  }

  add(line: LogLine): void {
    if (this.#closed) return; // the attempt's end is being written: a late line is not kept
    this.#hold(line);
    this.#pump();
  }

  /** Stops taking lines and writes every one still waiting. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#writing || this.#pending.length || this.#dropped) {
      if (this.#writing) await this.#writing;
      else if (!(await this.#flush())) break; // written what it could; the rest is logged as lost
    }
  }

  #hold(line: LogLine): void {
    if (
      this.#pending.length >= this.#caps.maxLines ||
      this.#pendingBytes + line.bytes > this.#caps.maxBytes
    ) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#pendingBytes += line.bytes;
  }

  #pump(): void {
    if (this.#closed || this.#writing || this.#timer) return;
    if (!this.#pending.length && !this.#dropped) return;
    const wait = this.#lastWriteAt + this.#intervalMs - performance.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    this.#writing = this.#flush().then(() => {
      this.#writing = undefined;
      this.#pump();
    });
  }

  /** Writes one batch; false when it failed (its lines are kept for the next write). */
  async #flush(): Promise<boolean> {
    const batch = this.#pending.splice(0, LOG_BATCH_LINES);
    const dropped = this.#pending.length ? 0 : this.#dropped; // counted after the lines before them
    this.#pendingBytes -= batch.reduce((sum, line) => sum + line.bytes, 0);
    if (!this.#pending.length) this.#dropped = 0;
    this.#lastWriteAt = performance.now();
    this.writes++;
    try {
      await this.#write(batch, dropped);
      return true;
    } catch (error) {
      this.#log.warn({ err: error, lines: batch.length }, 'a run log write failed');
      if (this.#closed) return false;
      const later = this.#pending;
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#dropped += dropped;
      for (const line of [...batch, ...later]) this.#hold(line);
      return false;
    }
  }
}
