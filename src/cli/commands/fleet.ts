import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { isUuid } from '../../domain/uuid.js';
import { retryFleet } from '../../fleet/retry-fleet.js';
import { type FleetStarted, startFleet } from '../../fleet/start-fleet.js';
import { createLogger } from '../../logger.js';
import { installLifecycle } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

interface FleetOptions {
  workspace: string;
  type: string;
  tenants?: string;
  input: string;
}

/** `runwarden fleet start --workspace W --type T [--tenants a,b] --input '{…}'` (DESIGN §13, §19). */
export function registerFleet(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('Fleet operations: one run across many tenants, under one parent run.');
  fleet
    .command('start')
    .description('Start a tenant operation on every (or the named) active tenant of a workspace.')
    .requiredOption('--workspace <slug>', 'the workspace, by slug or id')
    .requiredOption('--type <type>', 'a tenant operation type that runs on the queue')
    .option('--tenants <slugs>', 'comma-separated tenant slugs (default: every active tenant)')
    .option('--input <json>', "the operation's input as JSON", '{}')
    .addHelpText(
      'after',
      [
        '',
        'One parent run (workspace-level) and one child run per active tenant, all started in one',
        'transaction; inactive tenants are skipped and counted. A tenant whose identical run is',
        'already active joins with that run. The parent completes when its last child does:',
        'succeeded (all), partially_succeeded (some did not), failed (none) or cancelled.',
        'Cancel it like any run (API or console): queued children are cancelled at once.',
        '',
        'Examples:',
        '  runwarden fleet start --workspace contoso --type inventory.sync --input \'{"scope":"all"}\'',
        '  runwarden fleet start --workspace contoso --type policy.sync --tenants contoso-prod,contoso-dev',
      ].join('\n'),
    )
    .action(async (options: FleetOptions) => {
      let input: unknown;
      try {
        input = JSON.parse(options.input);
      } catch {
        throw new Error(`--input is not JSON: ${options.input}`);
      }
      const config = loadConfig();
      const logger = createLogger(process.env.LOG_LEVEL?.trim() ? config.logLevel : 'error');
      const lifecycle = installLifecycle(logger);
      const runtime = await openRuntime(config, logger, lifecycle, { kind: 'flow' });
      try {
        const workspace = await runtime.db
          .selectFrom('workspaces')
          .select('id')
          .where(isUuid(options.workspace) ? 'id' : 'slug', '=', options.workspace)
          .executeTakeFirst();
        if (!workspace) throw new Error(`There is no workspace "${options.workspace}".`);
        const tenants = options.tenants
          ? options.tenants
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s.length > 0)
          : 'all';
        const started = await startFleet(runtime, {
          type: options.type,
          workspaceId: workspace.id,
          tenants,
          input,
          initiatorUserId: null,
        });
        console.log(startedLine(started));
      } finally {
        await lifecycle.close();
      }
    });
  fleet
    .command('retry')
    .description('Start a finished fleet again over its tenants that did not succeed.')
    .argument('<runId>', "the fleet's parent run id")
    .addHelpText(
      'after',
      [
        '',
        'A new fleet with the same type and input over the tenants whose run failed, partially',
        'succeeded, was blocked or cancelled; it links to the old one (retryOf), which stays as',
        'it ended. The API: POST /api/operations/:id/retry-failed.',
        '',
        'Example:',
        '  runwarden fleet retry 0193a5c2-…',
      ].join('\n'),
    )
    .action(async (runId: string) => {
      if (!isUuid(runId)) throw new Error(`"${runId}" is not a run id.`);
      const config = loadConfig();
      const logger = createLogger(process.env.LOG_LEVEL?.trim() ? config.logLevel : 'error');
      const lifecycle = installLifecycle(logger);
      const runtime = await openRuntime(config, logger, lifecycle, { kind: 'flow' });
      try {
        const started = await retryFleet(runtime, { parentId: runId, initiatorUserId: null });
        console.log(startedLine(started));
      } finally {
        await lifecycle.close();
      }
    });
}

function startedLine(started: FleetStarted): string {
  const { started: n, reused, skipped } = started.children;
  return `Started fleet ${started.run.id}: ${n} run(s) started, ${reused} joined an active run, ${skipped} inactive tenant(s) skipped.`;
}
