import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { loadConfig } from '../../config.js';
import type { Database } from '../../db/schema.js';
import { RunwardenError } from '../../domain/errors.js';
import { isUuid } from '../../domain/uuid.js';
import {
  createPause,
  describeScope,
  findPause,
  liftPause,
  listPauses,
  type Pause,
  type PauseCall,
} from '../../flow/pauses.js';
import { createLogger } from '../../logger.js';
import { installLifecycle } from '../lifecycle.js';
import { openRuntime, type Runtime } from '../runtime.js';

interface ScopeOptions {
  workspace: string;
  tenant?: string;
  type?: string;
}

const CLI: PauseCall = { actor: { userId: null, kind: 'system' }, source: 'cli' };

/** `runwarden pause|resume --workspace W [--tenant T] [--type X]` (DESIGN §13, §17). */
export function registerPause(program: Command): void {
  scoped(program.command('pause'))
    .description(
      'Pause a type, a tenant, or a type for a tenant: its runs wait, running ones finish.',
    )
    .addHelpText(
      'after',
      [
        '',
        'Runs of the scope stay queued (never started) until `runwarden resume` with the same flags;',
        'runs already running finish. Without --tenant and --type the whole workspace is paused.',
        'Every worker honours it within a second. Audited; the API and the console do the same.',
        '',
        'Examples:',
        '  runwarden pause --workspace contoso --type inventory.sync',
        '  runwarden pause --workspace contoso --tenant contoso-prod',
        '  runwarden pause --workspace contoso --tenant contoso-prod --type inventory.sync',
      ].join('\n'),
    )
    .action(async (options: ScopeOptions) => {
      await withRuntime(async ({ db, registry }) => {
        const scope = await resolveScope(db, options);
        try {
          const pause = await createPause(db, scope, { ...CLI, types: registry.list() });
          console.log(`Paused ${scopeText(options)} (pause ${pause.id}).`);
          console.log(`Lift it with: runwarden resume ${flagsOf(options)}`);
        } catch (error) {
          if (error instanceof RunwardenError && error.code === 'unknown_type') {
            const types = registry.queueOperations().map((op) => op.type);
            throw new Error(
              `${error.message} in the catalog (RUNWARDEN_CONFIG); ` +
                (types.length ? `its types: ${types.join(', ')}` : 'it has no operation types'),
            );
          }
          if (!(error instanceof RunwardenError) || error.code !== 'conflict') throw error;
          const existing = await findPause(db, scope);
          console.log(
            `${capitalized(scopeText(options))} is already paused${existing ? ` since ${since(existing)}` : ''}; nothing changed.`,
          );
        }
      });
    });

  scoped(program.command('resume'))
    .description('Lift the pause of exactly this scope: its runs wait for admission again at once.')
    .addHelpText(
      'after',
      [
        '',
        'Give the same flags as the pause. Exits 1 when no pause has exactly this scope, listing',
        'the pauses of the workspace.',
      ].join('\n'),
    )
    .action(async (options: ScopeOptions) => {
      await withRuntime(async ({ db }) => {
        const scope = await resolveScope(db, options);
        const what = scopeText(options);
        const pause = await findPause(db, scope);
        const lifted = pause
          ? await liftPause(db, { workspaceId: scope.workspaceId, id: pause.id }, CLI)
          : undefined;
        if (lifted) {
          console.log(`Resumed ${what} (paused since ${since(lifted)}).`);
          return;
        }
        const others = await listPauses(db, scope.workspaceId);
        const listed = await Promise.all(others.map((p) => describePause(db, p)));
        throw new Error(
          [
            `${capitalized(what)} is not paused; nothing changed.`,
            listed.length
              ? `Pauses in ${options.workspace}:\n${listed.map((l) => `  - ${l}`).join('\n')}`
              : `Nothing is paused in ${options.workspace}.`,
          ].join('\n'),
        );
      });
    });
}

function scoped(command: Command): Command {
  return command
    .requiredOption('--workspace <slug>', 'the workspace')
    .option('--tenant <slug>', 'one tenant of it')
    .option('--type <type>', 'one operation type, e.g. inventory.sync');
}

async function withRuntime(work: (runtime: Runtime) => Promise<void>): Promise<void> {
  const config = loadConfig();
  // The verb prints its own report; its logs stay quiet unless LOG_LEVEL asks for them.
  const logger = createLogger(process.env.LOG_LEVEL?.trim() ? config.logLevel : 'error');
  const lifecycle = installLifecycle(logger);
  const runtime = await openRuntime(config, logger, lifecycle, { kind: 'flow' });
  try {
    await work(runtime);
  } finally {
    await lifecycle.close();
  }
}

/** The workspace and tenant by slug, and the type as given. */
async function resolveScope(db: Kysely<Database>, options: ScopeOptions) {
  const workspace = await db
    .selectFrom('workspaces')
    .select('id')
    .where(isUuid(options.workspace) ? 'id' : 'slug', '=', options.workspace)
    .executeTakeFirst();
  if (!workspace) throw new Error(`There is no workspace "${options.workspace}".`);
  let tenantId: string | null = null;
  if (options.tenant !== undefined) {
    const tenant = await db
      .selectFrom('tenants')
      .select('id')
      .where('workspace_id', '=', workspace.id)
      .where('slug', '=', options.tenant)
      .executeTakeFirst();
    if (!tenant)
      throw new Error(`Workspace ${options.workspace} has no tenant "${options.tenant}".`);
    tenantId = tenant.id;
  }
  return { workspaceId: workspace.id, type: options.type ?? null, tenantId };
}

/** `type X for tenant Y in workspace W`, or `everything in workspace W`. */
function scopeText(options: ScopeOptions): string {
  return options.type === undefined && options.tenant === undefined
    ? `everything in workspace ${options.workspace}`
    : `${describeScope({ type: options.type ?? null, tenant: options.tenant ?? null })} in workspace ${options.workspace}`;
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function flagsOf(options: ScopeOptions): string {
  return [
    `--workspace ${options.workspace}`,
    options.tenant ? `--tenant ${options.tenant}` : null,
    options.type ? `--type ${options.type}` : null,
  ]
    .filter((f) => f !== null)
    .join(' ');
}

function since(pause: Pause): string {
  return `${pause.createdAt.toISOString()}${pause.createdByName ? ` by ${pause.createdByName}` : ''}`;
}

async function describePause(db: Kysely<Database>, pause: Pause): Promise<string> {
  const tenant = pause.tenantId
    ? await db
        .selectFrom('tenants')
        .select('slug')
        .where('id', '=', pause.tenantId)
        .executeTakeFirst()
    : undefined;
  const flags = [
    tenant ? `--tenant ${tenant.slug}` : null,
    pause.type ? `--type ${pause.type}` : null,
  ].filter((f) => f !== null);
  return `${describeScope({ type: pause.type, tenant: tenant?.slug ?? null })} (since ${since(pause)})${flags.length ? `: resume with ${flags.join(' ')}` : ''}`;
}
