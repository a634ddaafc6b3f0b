import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { reconcile } from '../../lifecycle/reconciler.js';
import { createLogger } from '../../logger.js';
import { installLifecycle } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description(
      'Run one reconciler sweep now: end active runs that are past their lifecycle window.',
    )
    .option('--dry-run', 'print what the sweep would change, and change nothing')
    .addHelpText(
      'after',
      [
        '',
        'Every `runwarden worker` and `runwarden start` already sweeps every',
        'RUNWARDEN_RECONCILE_INTERVAL_SECONDS (default 5); this runs one sweep by hand.',
        'A sweep takes an advisory lock: when another process is sweeping, it says so and exits.',
      ].join('\n'),
    )
    .action(async (options: { dryRun?: boolean }) => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      const lifecycle = installLifecycle(logger);
      const runtime = await openRuntime(config, logger, lifecycle, {
        kind: 'reconcile',
        requireDatabaseUrl: 'runwarden reconcile',
      });
      try {
        const report = await reconcile({ ...runtime, logger }, { dryRun: options.dryRun ?? false });
        if (!report.swept) {
          console.log('Another Runwarden process is sweeping right now; nothing done.');
          return;
        }
        const verb = options.dryRun ? 'would fail' : 'failed';
        console.log(
          `${report.examined} candidate run(s) examined; ${report.actions.length} past their lifecycle window.`,
        );
        for (const a of report.actions) {
          const what = a.result === 'would_fail' ? verb : a.result;
          console.log(
            `  ${a.runId}  ${a.type}  ${a.status}  ${a.reasonCode} (${a.sinceSeconds} s > ${a.thresholdSeconds} s)  → ${what}${a.note ? ` (${a.note})` : ''}`,
          );
        }
        if (report.unlockedWorkers.length > 0)
          console.log(`Released the jobs of lost workers: ${report.unlockedWorkers.join(', ')}`);
      } finally {
        await lifecycle.close();
      }
    });
}
