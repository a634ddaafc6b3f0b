import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { prune } from '../../lifecycle/retention.js';
import { createLogger } from '../../logger.js';
import { installLifecycle } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description(
      'Delete terminal runs older than the retention period, with their events and notifications.',
    )
    .option(
      '--older-than-days <days>',
      'retention in days (default: RUNWARDEN_RETENTION_DAYS, 90)',
      (v) => Number(v),
    )
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .addHelpText(
      'after',
      '\nActive runs are never pruned. Batches of 5,000; one pruner at a time (advisory lock).\n' +
        'Every worker also prunes daily at 03:15 UTC.',
    )
    .action(async (options: { olderThanDays?: number; dryRun?: boolean }) => {
      const config = loadConfig();
      const retentionDays = options.olderThanDays ?? config.retentionDays;
      if (!Number.isFinite(retentionDays) || retentionDays <= 0)
        throw new Error('--older-than-days must be a positive number');
      const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      const lifecycle = installLifecycle(logger);
      const runtime = await openRuntime(config, logger, lifecycle, {
        kind: 'prune',
        requireDatabaseUrl: 'runwarden prune',
      });
      try {
        const report = await prune(runtime.db, {
          retentionDays,
          dryRun: options.dryRun ?? false,
          onProgress: (deleted) =>
            process.stdout.write(`  deleted ${deleted.toLocaleString('en-US')} runs so far…\n`),
        });
        if (!report.ran) {
          console.log('Another Runwarden process is pruning right now; nothing done.');
          return;
        }
        const verb = options.dryRun ? 'would delete' : 'deleted';
        console.log(
          `${verb} ${report.deleted.toLocaleString('en-US')} terminal run(s) completed before ${report.cutoff.toISOString()}.`,
        );
      } finally {
        await lifecycle.close();
      }
    });
}
