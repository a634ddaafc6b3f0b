import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { SAFETY_MARGIN_SECONDS } from '../../domain/policy-validator.js';
import { OperationRegistry } from '../../execution/registry.js';
import { scheduleCronItems } from '../../execution/schedules.js';
import { loadCatalog, NO_CATALOG_HINT } from '../catalog.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Check the catalog: every lifecycle policy and schedule. Exits 1 on any problem.')
    .addHelpText(
      'after',
      [
        '',
        'Checks the catalog RUNWARDEN_CONFIG names (.ts, .mts, .js, .mjs or .cjs), per operation type:',
        `  timeoutSeconds + ${SAFETY_MARGIN_SECONDS} s < runningStaleAfterSeconds   3 × heartbeatSeconds < runningStaleAfterSeconds`,
        '  queuedStaleAfterSeconds ≥ 60                    retry backoff < queuedStaleAfterSeconds',
        '  positive numbers, known keys; schedules name known types and valid cron patterns.',
        'Every worker and server runs the same checks at boot and refuses to start on a problem.',
      ].join('\n'),
    )
    .action(async () => {
      const config = loadConfig();
      if (!config.catalogModule) throw new Error(NO_CATALOG_HINT);
      const catalog = await loadCatalog(config.catalogModule);
      const problems: string[] = [];
      let registry: OperationRegistry | undefined;
      try {
        registry = new OperationRegistry(catalog.operations, undefined, {
          flowPools: catalog.flowPools,
        });
        problems.push(...registry.policyProblems());
        scheduleCronItems(catalog.schedules, registry);
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
      if (problems.length > 0) {
        console.error(`${problems.length} problem(s) in the catalog:`);
        for (const problem of problems) console.error(`  - ${problem}`);
        process.exitCode = 1;
        return;
      }
      console.log(
        `catalog ok: ${registry?.list().length ?? 0} operation types, ${catalog.schedules.length} schedule(s); policies aligned.`,
      );
    });
}
