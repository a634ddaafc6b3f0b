#!/usr/bin/env node
import { Command } from 'commander';
import { packageVersion } from '../version.js';
import { registerAdmin } from './commands/admin.js';
import { registerFleet } from './commands/fleet.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPause } from './commands/pause.js';
import { registerPrune } from './commands/prune.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerSchedules } from './commands/schedules.js';
import { registerSeedDemo } from './commands/seed-demo.js';
import { registerServe } from './commands/serve.js';
import { registerStart } from './commands/start.js';
import { registerValidate } from './commands/validate.js';
import { registerWorker } from './commands/worker.js';
import { currentLifecycle } from './lifecycle.js';

const program = new Command()
  .name('runwarden')
  .description('Runwarden: one honest record for every long-running operation.')
  .version(packageVersion())
  .showHelpAfterError();

registerStart(program);
registerMigrate(program);
registerWorker(program);
registerServe(program);
registerSchedules(program);
registerValidate(program);
registerReconcile(program);
registerPause(program);
registerFleet(program);
registerPrune(program);
registerSeedDemo(program);
registerAdmin(program);

program.parseAsync(process.argv).catch(async (error: unknown) => {
  const lifecycle = currentLifecycle();
  // Interrupted: the step under way failed because we abandoned it; the signal handler exits.
  if (lifecycle?.interrupted) return;
  // Expected failures (bad config, port taken, unreachable data dir) carry their own advice.
  console.error(`runwarden: ${error instanceof Error ? error.message : String(error)}`);
  // Undo what the command had started (the embedded PostgreSQL above all), then exit.
  if (lifecycle) {
    const limit = new Promise((resolve) => setTimeout(resolve, 10_000));
    await Promise.race([lifecycle.fail(), limit]);
  }
  process.exit(1);
});
