import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { deleteExpired } from './expired-rows.js';

/** At most `max` attempts per subject in a window of `windowMs`, opened by the first attempt. */
export interface ThrottleRule {
  /** Names the counter family, e.g. `address` or `account`. */
  name: string;
  max: number;
  windowMs: number;
}

/** One counted attempt: whether it is within the limit, and when the window ends. */
export interface Attempt {
  allowed: boolean;
  /** Whole seconds until the window ends (at least 1): the `Retry-After` of a refusal. */
  retryAfterSeconds: number;
  key: string;
  expiresAt: Date;
}

export const PRUNE_BATCH = 1_000;

/**
 * Fixed-window counters in the `login_throttle` table, shared by every API process (DESIGN §16).
 * Counting is one atomic upsert per key, so attempts racing on separate connections each get their
 * own number and never more than `max` are allowed per window. The key is a sha256 of the rule
 * (with its limit, so a process configured differently keeps its own count) and the subject: the
 * table never holds an address, nor a typed "email" that may be someone's password.
 */
export class LoginThrottle {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  /** Counts one attempt by `subject` under `rule`. */
  async count(rule: ThrottleRule, subject: string): Promise<Attempt> {
    const key = throttleKey(rule, subject);
    const now = this.#now();
    const fresh = new Date(now.getTime() + rule.windowMs);
    const result = await sql<{ attempts: number; expires_at: Date }>`
      insert into login_throttle as t (key, attempts, expires_at) values (${key}, 1, ${fresh})
      on conflict (key) do update set
        attempts = case when t.expires_at <= ${now} then 1 else t.attempts + 1 end,
        expires_at = case when t.expires_at <= ${now} then excluded.expires_at else t.expires_at end
      returning attempts, expires_at`.execute(this.#db);
    const row = result.rows[0];
    if (!row) throw new Error('login_throttle upsert returned no row');
    const expiresAt = new Date(row.expires_at);
    return {
      allowed: row.attempts <= rule.max,
      retryAfterSeconds: Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000)),
      key,
      expiresAt,
    };
  }

  /** Takes back an attempt that should not count (a successful login), within its own window. */
  async forgive(attempt: Attempt): Promise<void> {
    await this.#db
      .updateTable('login_throttle')
      .set((eb) => ({ attempts: eb('attempts', '-', 1) }))
      .where('key', '=', attempt.key)
      .where('expires_at', '=', attempt.expiresAt)
      .where('attempts', '>', 0)
      .execute();
  }

  /** Deletes counters whose window has ended, in batches; returns how many. */
  async prune(batchSize = PRUNE_BATCH): Promise<number> {
    return await deleteExpired(this.#db, {
      table: 'login_throttle',
      key: 'key',
      now: this.#now(),
      batchSize,
    });
  }
}

export function throttleKey(rule: ThrottleRule, subject: string): string {
  return createHash('sha256')
    .update(`${rule.name}:${rule.max}/${rule.windowMs}:${subject}`)
    .digest('hex');
}

/** The account an attempt names, as counted: trimmed and lower-cased. */
export function accountSubject(email: string): string {
  return email.trim().toLowerCase();
}
