import type { Logger } from '../logger.js';

type Cleanup = () => Promise<void>;

/** How long an interrupted boot may take to clean up before we exit regardless (DESIGN §16: 10 s). */
const BOOT_CLEANUP_LIMIT_MS = 8_000;

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };

/**
 * A command's life from its first line to its exit (DESIGN §16, signals at any moment).
 *
 * Installed before anything starts, it owns SIGINT/SIGTERM. Resources register their cleanup
 * the moment they exist (the embedded postmaster as soon as it is spawned, the pool once
 * created, …), so the list always matches what is up. On a signal:
 * - during boot (before `ready()`): it logs "interrupted during boot: <phase>", aborts `signal`
 *   (the boot steps stop waiting), runs the cleanups hurriedly (pools are cut, not drained;
 *   PostgreSQL gets a fast shutdown) and exits 130 (SIGINT) or 143 (SIGTERM); whatever hangs, it
 *   exits within {@link BOOT_CLEANUP_LIMIT_MS};
 * - after boot: an ordinary graceful shutdown, exit 0 (1 if a step failed);
 * - a second signal exits at once, after the synchronous last resorts (killing our postmaster).
 */
export class Lifecycle {
  readonly #logger: Logger;
  readonly #controller = new AbortController();
  readonly #cleanups: Cleanup[] = [];
  readonly #lastResorts = new Set<() => void>();
  #phase = 'starting';
  #ready = false;
  #signalled: NodeJS.Signals | undefined;
  #failed = false;
  #closing: Promise<boolean> | undefined;
  #drained = false;
  #shutdownLimitMs: number | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Aborted by the first signal: boot steps pass it on, and stop at the next step. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** A signal has arrived: the process is on its way out. */
  get interrupted(): boolean {
    return this.#signalled !== undefined;
  }

  /** Interrupted (or failed) before boot finished: clean up fast rather than gracefully. */
  get hurried(): boolean {
    return (this.interrupted || this.#failed) && !this.#ready;
  }

  /** The command failed: stop the boot steps still under way and undo what started, fast if booting. */
  async fail(): Promise<boolean> {
    this.#failed = true;
    if (!this.#controller.signal.aborted) this.#controller.abort(new Error('the command failed'));
    return await this.close();
  }

  /** Names the boot step now under way (for the log line of an interrupt); throws if interrupted. */
  phase(name: string): void {
    this.#controller.signal.throwIfAborted();
    this.#phase = name;
    this.#logger.debug({ phase: name }, 'boot phase');
  }

  /** Boot is over: from now on a signal means a graceful shutdown. */
  ready(): void {
    this.#controller.signal.throwIfAborted();
    this.#ready = true;
  }

  /**
   * A graceful shutdown (after boot) that has not finished within `ms` exits anyway, status 1: a
   * cleanup waiting on a database that does not answer (a blackholed network) never holds the
   * process (DESIGN §16: SIGTERM exits within the worker's grace + 10 s).
   */
  limitShutdown(ms: number): void {
    this.#shutdownLimitMs = ms;
  }

  /** Registers a cleanup; they run last-first. One added while closing runs in its turn. */
  add(cleanup: Cleanup): void {
    this.#cleanups.push(cleanup);
    if (this.#closing && this.#drained) void this.close(); // came up after the shutdown: undo it now
  }

  /** A synchronous kill for when waiting is not possible (second signal, exit); returns its removal. */
  lastResort(kill: () => void): () => void {
    this.#lastResorts.add(kill);
    return () => this.#lastResorts.delete(kill);
  }

  /** Runs the registered cleanups once, last first; resolves false if one failed. */
  close(): Promise<boolean> {
    if (!this.#closing || (this.#drained && this.#cleanups.length > 0)) {
      this.#drained = false;
      this.#closing = this.#drain();
    }
    return this.#closing;
  }

  async #drain(): Promise<boolean> {
    let ok = true;
    for (;;) {
      const cleanup = this.#cleanups.pop();
      if (!cleanup) {
        this.#drained = true;
        return ok;
      }
      try {
        await cleanup();
      } catch (error) {
        ok = false;
        this.#logger.error({ err: error }, 'shutdown step failed');
      }
    }
  }

  /** Runs every last resort (synchronously), e.g. SIGQUIT to a postmaster still running. */
  killRemaining(): void {
    for (const kill of this.#lastResorts) {
      try {
        kill();
      } catch {
        // nothing more we can do on the way out
      }
    }
    this.#lastResorts.clear();
  }

  /** SIGINT/SIGTERM handling, see the class comment. */
  onSignal(signal: NodeJS.Signals): void {
    const code = 128 + (SIGNAL_NUMBERS[signal] ?? 1);
    if (this.#signalled) {
      this.#logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      this.killRemaining();
      process.exit(code);
    }
    this.#signalled = signal;
    const duringBoot = !this.#ready;
    if (duringBoot) {
      this.#logger.warn(
        { signal, phase: this.#phase },
        `interrupted during boot: ${this.#phase}; stopping what has started`,
      );
      setTimeout(() => {
        this.#logger.error(
          { signal, phase: this.#phase },
          `interrupted boot still cleaning up after ${BOOT_CLEANUP_LIMIT_MS / 1000} s; exiting now`,
        );
        this.killRemaining();
        process.exit(code);
      }, BOOT_CLEANUP_LIMIT_MS);
    } else {
      this.#logger.info({ signal }, 'shutting down');
      const limitMs = this.#shutdownLimitMs;
      if (limitMs !== undefined)
        setTimeout(() => {
          this.#logger.error(
            { signal, seconds: limitMs / 1000 },
            `shutdown not finished after ${limitMs / 1000} s (the database does not answer?); exiting now`,
          );
          this.killRemaining();
          process.exit(1);
        }, limitMs).unref();
    }
    this.#controller.abort(new Error(`interrupted by ${signal}`));
    void this.close().then((ok) => {
      this.killRemaining();
      if (duringBoot) {
        this.#logger.warn({ signal }, 'stopped after an interrupted boot');
        process.exit(code);
      }
      if (ok) this.#logger.info('stopped cleanly');
      process.exit(ok ? 0 : 1);
    });
  }
}

let current: Lifecycle | undefined;

/**
 * Takes over SIGINT/SIGTERM for this command; call it first thing. On any exit, the last resorts
 * still registered run (a postmaster we started is never left behind).
 */
export function installLifecycle(logger: Logger): Lifecycle {
  const lifecycle = new Lifecycle(logger);
  current = lifecycle;
  process.on('SIGINT', (signal) => lifecycle.onSignal(signal));
  process.on('SIGTERM', (signal) => lifecycle.onSignal(signal));
  process.on('exit', () => lifecycle.killRemaining());
  return lifecycle;
}

/** The lifecycle of the running command, if it installed one. */
export function currentLifecycle(): Lifecycle | undefined {
  return current;
}
