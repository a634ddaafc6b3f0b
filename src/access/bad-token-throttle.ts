import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { LoginThrottle, type ThrottleRule } from './login-throttle.js';

/** Addresses this process remembers as blocked, at most (an expired one is dropped first). */
const REMEMBERED = 10_000;

/**
 * Bearer values that name no live token, counted per client address like failed logins (DESIGN
 * §10: guessing costs the attacker, not the database). The count is shared by every API process
 * (the login throttle's table); once an address is over the limit this process refuses its bearer
 * requests from memory until the window ends, reading and writing nothing.
 */
export class BadTokenThrottle {
  readonly #throttle: LoginThrottle;
  readonly #rule: ThrottleRule;
  readonly #now: () => Date;
  /** address → when its window ends (ms). */
  readonly #blocked = new Map<string, number>();

  constructor(db: Kysely<Database>, options: { perMinute: number; now?: () => Date }) {
    this.#now = options.now ?? (() => new Date());
    this.#throttle = new LoginThrottle(db, this.#now);
    this.#rule = { name: 'bad-token', max: options.perMinute, windowMs: 60_000 };
  }

  /** Seconds the address must still wait (0: not blocked); no database. */
  waitFor(address: string): number {
    const until = this.#blocked.get(address);
    if (until === undefined) return 0;
    const left = until - this.#now().getTime();
    if (left > 0) return Math.ceil(left / 1000);
    this.#blocked.delete(address);
    return 0;
  }

  /** Counts one bad bearer value; returns the seconds to wait when that was one too many. */
  async failed(address: string): Promise<number> {
    const attempt = await this.#throttle.count(this.#rule, address);
    if (attempt.allowed) return 0;
    if (this.#blocked.size >= REMEMBERED) this.#forgetExpired();
    this.#blocked.set(address, attempt.expiresAt.getTime());
    return attempt.retryAfterSeconds;
  }

  #forgetExpired(): void {
    const now = this.#now().getTime();
    for (const [address, until] of this.#blocked) if (until <= now) this.#blocked.delete(address);
    if (this.#blocked.size >= REMEMBERED) this.#blocked.clear();
  }
}
