import type pg from 'pg';
import type { Logger } from 'pino';
import { cutConnection } from '../db/pool.js';
import { type AdmissionDeps, admissionPass, type PassResult } from './admission-pass.js';
import { FLOW_CHANNEL } from './lanes.js';

export interface AdmitterOptions extends AdmissionDeps {
  /** The LISTEN connection comes from here. */
  pgPool: pg.Pool;
  logger: Logger;
  /** A pass at least this often even without a wakeup (a lost NOTIFY, a freed slot elsewhere). */
  safetyMs?: number;
  /** Between attempts while the database does not answer. */
  retryMs?: number;
  /** How often the LISTEN connection is asked `select 1` (a silent one is cut and replaced). */
  probeMs?: number;
  /** Told of each pass that admitted or expired runs (tests, metrics). */
  onPass?: (result: PassResult) => void;
}

/**
 * Runs admission passes when something may have changed (DESIGN §17): a NOTIFY on
 * `runwarden_flow` (a held start, a pause lifted, a limit changed), `wake()` from this process (a
 * run it finished or started), the next held `runAt`, and a slow safety pass. Wakeups that arrive
 * during a pass are folded into one more pass after it.
 */
export class Admitter {
  readonly #options: AdmitterOptions;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #dueTimer: NodeJS.Timeout | undefined;
  #safetyTimer: NodeJS.Timeout | undefined;
  #listener: pg.PoolClient | undefined;
  #probe: NodeJS.Timeout | undefined;

  constructor(options: AdmitterOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#safetyTimer = setInterval(() => this.wake(), this.#options.safetyMs ?? 5_000);
    this.#safetyTimer.unref();
    await this.#listen();
    this.wake();
  }

  /** Ask for a pass soon (coalesced with any already asked for). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once no pass is running. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#safetyTimer);
    clearTimeout(this.#dueTimer);
    clearInterval(this.#probe);
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.release(true);
    await this.idle();
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        const result = await admissionPass(this.#options);
        if (result.admitted.length > 0 || result.expired > 0) this.#options.onPass?.(result);
        this.#scheduleDue(result.nextAt);
      } catch (error) {
        if (this.#stopped) return;
        this.#options.logger.warn(
          { reason: error instanceof Error ? error.message : String(error) },
          'flow admission failed: trying again',
        );
        this.#scheduleDue(new Date(Date.now() + (this.#options.retryMs ?? 1_000)));
      }
    } while (this.#again && !this.#stopped);
  }

  #scheduleDue(at: Date | null) {
    clearTimeout(this.#dueTimer);
    if (!at || this.#stopped) return;
    const ms = Math.max(0, at.getTime() - Date.now());
    this.#dueTimer = setTimeout(() => this.wake(), Math.min(ms, 2_147_000_000));
    this.#dueTimer.unref();
  }

  async #listen(): Promise<void> {
    if (this.#stopped) return;
    let client: pg.PoolClient;
    try {
      client = await this.#options.pgPool.connect();
      await client.query(`listen ${FLOW_CHANNEL}`);
    } catch (error) {
      this.#options.logger.warn(
        { reason: error instanceof Error ? error.message : String(error) },
        'flow admission cannot LISTEN: retrying',
      );
      setTimeout(() => void this.#listen(), this.#options.retryMs ?? 1_000).unref();
      return;
    }
    if (this.#stopped) {
      client.release(true);
      return;
    }
    this.#listener = client;
    client.on('notification', () => this.wake());
    let lost = false;
    const reconnect = () => {
      if (lost || this.#stopped) return;
      lost = true;
      clearInterval(this.#probe);
      this.#listener = undefined;
      client.release(true);
      setTimeout(() => {
        void this.#listen();
        this.wake();
      }, this.#options.retryMs ?? 1_000).unref();
    };
    client.on('error', reconnect);
    const probeMs = this.#options.probeMs ?? 5_000;
    this.#probe = setInterval(() => {
      client
        .query({ text: 'select 1', query_timeout: probeMs } as pg.QueryConfig)
        .catch((error: unknown) => {
          if (error instanceof Error && error.message === 'Query read timeout')
            cutConnection(client);
          reconnect();
        });
    }, probeMs);
    this.#probe.unref();
  }
}
