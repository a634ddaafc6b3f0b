import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { DEFAULT_CONCURRENCY } from '../../execution/worker.js';
import { createLogger } from '../../logger.js';
import { startBackground } from '../background.js';
import { installLifecycle } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run queued operations: every registered queue type, on DATABASE_URL.')
    .option(
      '-c, --concurrency <n>',
      'jobs this process runs at once',
      parsePositive,
      DEFAULT_CONCURRENCY,
    )
    .option(
      '--shutdown-grace <seconds>',
      'on SIGTERM/SIGINT, how long in-flight runs may finish before they are handed back',
      parsePositive,
      25,
    )
    .addHelpText(
      'after',
      [
        '',
        'Start as many workers as you like, on as many machines, against one DATABASE_URL; jobs are',
        'shared out with SKIP LOCKED. RUNWARDEN_CONFIG names your catalog module (catalog.ts, .mts,',
        '.js, .mjs, .cjs); without it a worker runs no operation types, except on the demo.',
        'On SIGTERM/SIGINT the worker stops taking jobs, waits --shutdown-grace seconds, then hands',
        'unfinished runs back to the queue for another worker.',
        'Its database pool: RUNWARDEN_DB_POOL_SIZE connections, by default max(10, concurrency + 3);',
        'a RUNWARDEN_DB_POOL_SIZE below concurrency + 3 is refused (README "Connection budget").',
      ].join('\n'),
    )
    .action(async (options: { concurrency: number; shutdownGrace: number }) => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const lifecycle = installLifecycle(logger);
      const runtime = await openRuntime(config, logger, lifecycle, {
        kind: 'worker',
        concurrency: options.concurrency,
        requireDatabaseUrl: 'runwarden worker',
      });
      await startBackground(runtime, config, logger, lifecycle, {
        concurrency: options.concurrency,
        shutdownGraceSeconds: options.shutdownGrace,
      });
      lifecycle.ready();
    });
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`expected a positive number, got "${value}"`);
  return n;
}
