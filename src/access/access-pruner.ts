import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { Logger } from '../logger.js';
import { deleteExpired } from './expired-rows.js';
import type { LoginThrottle } from './login-throttle.js';
import { pruneExpiredSessions } from './session-store.js';

export interface AccessPruner {
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Deletes expired sessions, ended login-throttle windows and expired invites every `everyMs` on average, in every
 * API process. Each wait is jittered (0.5–1.5 × `everyMs`) so processes started together do not
 * prune together; a pass in two processes at once is harmless (batches skip locked rows). The
 * timer never keeps the process alive, and a failed pass (the database away) waits for the next.
 */
export function startAccessPruner(options: {
  db: Kysely<Database>;
  throttle: LoginThrottle;
  now: () => Date;
  everyMs: number;
  logger: Logger;
}): AccessPruner {
  const { db, throttle, now, everyMs, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const pass = async () => {
    try {
      const sessions = await pruneExpiredSessions(db, { now: now() });
      const windows = await throttle.prune();
      const invites = await deleteExpired(db, {
        table: 'invites',
        key: 'token_hash',
        now: now(),
        batchSize: 1_000,
      });
      if (sessions + windows + invites > 0)
        logger.debug({ sessions, windows, invites }, 'pruned expired access rows');
    } catch (error) {
      if (isDatabaseUnavailable(error)) logger.warn('access prune skipped: database unavailable');
      else logger.error({ err: error }, 'access prune failed');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        running = pass().finally(() => {
          running = undefined;
          schedule();
        });
      },
      everyMs * (0.5 + Math.random()),
    );
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
