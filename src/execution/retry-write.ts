import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/unavailable.js';

export interface RetryWindow {
  /** Give up at this instant (epoch ms): the run's lifecycle window, after which the reconciler judges it. */
  until: number;
  log: Pick<Logger, 'warn' | 'info'>;
  /** What is being written, for the log ("completion", "progress", …). */
  what: string;
}

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2_000;

/**
 * Runs `write`, and while the database is unreachable (a restart, failover, outage) runs it again
 * with backoff until it lands or the window closes (DESIGN §16: results are not dropped). Any other
 * error is thrown at once. Writes here are compare-and-set transitions, so repeating one whose
 * commit was lost in transit is harmless: the second attempt finds the run already moved.
 */
export async function retryWhileUnavailable<T>(
  write: () => Promise<T>,
  window: RetryWindow,
): Promise<T> {
  let delay = FIRST_DELAY_MS;
  let retries = 0;
  const since = Date.now();
  for (;;) {
    try {
      const result = await write();
      if (retries > 0)
        window.log.info(
          { retries, seconds: Math.round((Date.now() - since) / 100) / 10 },
          `${window.what} written once the database was back`,
        );
      return result;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + delay > window.until) throw error;
      if (retries === 0)
        window.log.warn(
          { err: error },
          `database unreachable: retrying the ${window.what} write until it lands`,
        );
      retries++;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}
