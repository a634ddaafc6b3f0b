import type { Principal } from '../access/principal.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { sameVisibility, type Visibility } from '../domain/visibility.js';
import type { Logger } from '../logger.js';

export interface StreamCaller {
  /** Who connected, and what the stream shows them. */
  principal: Principal;
  scope: Visibility;
  /** Reads the caller again as the request did; none: they cannot be re-checked. */
  reload: (() => Promise<Principal | undefined>) | undefined;
  /** What the caller may see now; throws when they may no longer see the stream's workspace. */
  visibilityOf(principal: Principal): Visibility;
  /** Ends the stream (the client reconnects with its new scope, or meets its 401/404). */
  end(): void;
  logger: Logger;
}

/**
 * A live stream re-checks its caller (DESIGN §10) on every directory change and every heartbeat,
 * and ends once the caller is gone or may see other runs than it shows. Returns the trigger;
 * triggers during a check are one more check after it. While the database is unreachable nothing
 * can change who may see what, so the stream lives on and the next trigger checks again.
 */
export function streamRecheck(caller: StreamCaller): () => void {
  let checking = false;
  let again = false;
  let over = false;

  async function stillEntitled(): Promise<boolean> {
    const now = caller.reload ? await caller.reload() : undefined;
    if (!now || now.userId !== caller.principal.userId) return false;
    try {
      return sameVisibility(caller.visibilityOf(now), caller.scope);
    } catch {
      return false; // not entitled to the stream's workspace any more (404/403)
    }
  }

  async function check(): Promise<void> {
    checking = true;
    do {
      again = false;
      const entitled = await stillEntitled().catch((error: unknown) => {
        if (isDatabaseUnavailable(error)) return true;
        caller.logger.warn({ err: error }, 'could not re-check a stream caller; ending the stream');
        return false;
      });
      if (!entitled) {
        over = true;
        caller.end();
      }
    } while (again && !over);
    checking = false;
  }

  return () => {
    if (over) return;
    if (checking) again = true;
    else void check();
  };
}
