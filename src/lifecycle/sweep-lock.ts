import { type Kysely, sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';

/** One advisory lock key for "a sweep is running" across every Runwarden process. */
export const RECONCILE_LOCK_KEY = 7_261_734_001;

/**
 * How long the server keeps the lock of a holder that stopped talking (frozen, partitioned,
 * stuck): its transaction is ended by `idle_in_transaction_session_timeout`, and the lock with it.
 */
export const SWEEP_LOCK_IDLE_MS = 3_000;
/** A live holder says so this often while its sweep runs, well within the idle limit. */
const KEEP_MS = 1_000;

/**
 * Runs `work` holding the sweep lock, or returns false at once when another process holds it.
 * The lock is transaction-scoped: held by a transaction that is open only while `work` runs and
 * that this process keeps alive with a statement every second. A holder that stops (SIGSTOP, a
 * blocked event loop, a silent network) goes quiet, and the server ends its transaction — and the
 * lock — within `SWEEP_LOCK_IDLE_MS`, so it never delays other processes' sweeps past the crash
 * bound. Two sweeps at once stay correct (each run moves once); the lock only saves the work.
 */
export async function withSweepLock(
  db: Kysely<Database>,
  logger: Pick<Logger, 'warn'>,
  work: () => Promise<void>,
): Promise<boolean> {
  let held = false;
  let done = false;
  try {
    await db.transaction().execute(async (trx) => {
      held = await takeLock(trx);
      if (!held) return;
      const keep = setInterval(() => {
        sql`select 1`.execute(trx).catch(() => {}); // ended by the server: the commit says so
      }, KEEP_MS);
      try {
        await work();
        done = true;
      } finally {
        clearInterval(keep);
      }
    });
  } catch (error) {
    // The sweep finished; only its lock's transaction ended early (this process stalled longer
    // than the idle limit, so another sweep may have run meanwhile: harmless).
    if (!done) throw error;
    logger.warn({ err: error }, 'the sweep lock ended before its sweep did');
  }
  return held;
}

async function takeLock(trx: Transaction<Database>): Promise<boolean> {
  await sql`set local idle_in_transaction_session_timeout = ${sql.lit(SWEEP_LOCK_IDLE_MS)}`.execute(
    trx,
  );
  const locked = await sql<{
    ok: boolean;
  }>`select pg_try_advisory_xact_lock(${RECONCILE_LOCK_KEY}) as ok`.execute(trx);
  return locked.rows[0]?.ok === true;
}
