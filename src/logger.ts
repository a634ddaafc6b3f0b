import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

const REDACT = {
  paths: [
    'password',
    '*.password',
    'token',
    '*.token',
    'authorization',
    '*.authorization',
    'headers.cookie',
    'databaseUrl',
    '*.databaseUrl',
  ],
  censor: '[redacted]',
};

/**
 * Logs for people and for machines: readable lines when stdout is a terminal, JSON lines (ISO
 * times) otherwise; LOG_FORMAT=pretty|json decides instead. Secrets are redacted wherever a field
 * of that name appears.
 */
export function createLogger(
  level = 'info',
  format: 'pretty' | 'json' = logFormat(process.env.LOG_FORMAT, process.stdout.isTTY),
): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: REDACT,
  };
  if (format === 'json') return pino(options);
  return pino(
    options,
    pretty({
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
      sync: true,
    }),
  );
}

export function logFormat(
  value: string | undefined,
  isTty: boolean | undefined,
): 'pretty' | 'json' {
  if (value === 'pretty' || value === 'json') return value;
  return isTty ? 'pretty' : 'json';
}

/** One interval's events for a summary line: how many, how many per key, and their p95 duration. */
export interface Summarized {
  total: number;
  byKey: Record<string, number>;
  p95Ms: number;
  /** The interval as people read it: `60 s`, `200 ms`. */
  every: string;
}

/**
 * Counts events (requests, runs) for one summary line per interval instead of a line each: every
 * `intervalMs`, if anything happened, `summarize` gets the interval's counts. `flush()` hands over
 * what is pending at once (a stopping process says what it did since the last line).
 */
export class SummaryWindow {
  #window = emptyWindow();
  readonly #timer: NodeJS.Timeout;
  readonly #every: string;

  constructor(
    intervalMs: number,
    private readonly summarize: (summary: Summarized) => void,
  ) {
    this.#every = intervalMs >= 1000 ? `${Math.round(intervalMs / 1000)} s` : `${intervalMs} ms`;
    this.#timer = setInterval(() => this.flush(), intervalMs);
    this.#timer.unref();
  }

  add(key: string, ms: number): void {
    const window = this.#window;
    window.total += 1;
    window.byKey[key] = (window.byKey[key] ?? 0) + 1;
    if (window.durations.length < 10_000) window.durations.push(ms);
  }

  flush(): void {
    const done = this.#window;
    this.#window = emptyWindow();
    if (done.total === 0) return;
    const sorted = done.durations.sort((a, b) => a - b);
    const p95Ms = Math.round(
      sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0,
    );
    this.summarize({ total: done.total, byKey: done.byKey, p95Ms, every: this.#every });
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function emptyWindow() {
  return { total: 0, byKey: {} as Record<string, number>, durations: [] as number[] };
}
