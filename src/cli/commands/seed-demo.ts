import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { demoPassword, printDemoLogins } from '../demo.js';
import { seedDemo } from '../demo-seed/index.js';
import { installLifecycle } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

export function registerSeedDemo(program: Command): void {
  program
    .command('seed-demo')
    .description(
      'Seed the demo: workspaces, tenants, the five demo logins and three weeks of runs.',
    )
    .option('--live', 'also start a few real runs for a worker to pick up', false)
    .addHelpText(
      'after',
      [
        '',
        'Runs once: on a database that already has the demo it changes nothing, except the demo',
        'password when RUNWARDEN_DEMO_PASSWORD is set. Without RUNWARDEN_DEMO_PASSWORD a password is',
        'generated and printed once. Uses DATABASE_URL, or the embedded PostgreSQL when unset.',
      ].join('\n'),
    )
    .action(async (options: { live: boolean }) => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const lifecycle = installLifecycle(logger);
      const runtime = await openRuntime(config, logger, lifecycle, {
        kind: 'seed-demo',
        migrate: true,
      });
      lifecycle.phase('seeding the demo');
      const password = demoPassword(config);
      const result = await seedDemo(runtime, {
        password: password.value,
        live: options.live,
        progress: (message) => logger.info(message),
      });
      if (!(await lifecycle.close())) process.exitCode = 1;
      printDemoLogins(result.seeded || password.fromEnv ? password : undefined);
    });
}
