import type { Logger } from '../logger.js';

type Cleanup = () => Promise<void>;

/**
 * Runs `cleanups` (last registered first) once on SIGINT/SIGTERM, then exits. A second signal
 * while cleaning up exits at once, for the impatient Ctrl-C.
 */
export function onShutdown(logger: Logger, cleanups: Cleanup[]): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void runCleanups(logger, cleanups).then((ok) => {
      if (ok) logger.info('stopped cleanly');
      process.exit(ok ? 0 : 1);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export async function runCleanups(logger: Logger, cleanups: Cleanup[]): Promise<boolean> {
  let ok = true;
  for (const cleanup of [...cleanups].reverse()) {
    try {
      await cleanup();
    } catch (error) {
      ok = false;
      logger.error({ err: error }, 'shutdown step failed');
    }
  }
  return ok;
}
