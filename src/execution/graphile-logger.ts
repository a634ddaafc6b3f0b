import { Logger as GraphileLogger } from 'graphile-worker';
import type { Logger } from 'pino';

/** Routes graphile-worker's own log lines into our pino logger (debug and up, quietly). */
export function graphileLogger(logger: Logger): GraphileLogger {
  const child = logger.child({ component: 'queue' });
  return new GraphileLogger(() => (level, message) => {
    if (level === 'error') child.error(message);
    else if (level === 'warning') child.warn(message);
    else child.debug(message);
  });
}
