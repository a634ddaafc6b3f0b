import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { demoCatalog, demoSchedules } from '../catalog/index.js';
import type { FlowPool } from '../domain/flow.js';
import type { OperationDefinition } from '../execution/operation.js';
import type { ScheduleDefinition } from '../execution/schedules.js';

export interface Catalog {
  operations: OperationDefinition[];
  schedules: ScheduleDefinition[];
  /** Limits several types share (DESIGN §17), checked with the types' own. */
  flowPools?: FlowPool[];
}

export function demo(): Catalog {
  return { operations: demoCatalog(), schedules: demoSchedules };
}

export const NO_CATALOG: Catalog = { operations: [], schedules: [] };

/** What a process without RUNWARDEN_CONFIG says, wherever it does not run the demo. */
export const NO_CATALOG_HINT =
  'no operation catalog: RUNWARDEN_CONFIG is not set, so there are no operation types to start or run. ' +
  'Point it at the module that exports your `catalog`, e.g. RUNWARDEN_CONFIG=catalog.ts ' +
  '(README "Defining an operation").';

const TYPESCRIPT = ['.ts', '.mts'];
const JAVASCRIPT = ['.js', '.mjs', '.cjs'];

/**
 * The module named by RUNWARDEN_CONFIG, exporting `catalog` (or a default export) as an array of
 * operations and optionally `schedules`. TypeScript goes through tsx's scoped loader rather than a
 * bundler: the file is still imported by its own URL, so its imports (`zod`, `runwarden`) resolve
 * from its own folder by Node's rules, and `runwarden` there is the very module this CLI runs.
 */
export async function loadCatalog(moduleName: string): Promise<Catalog> {
  const file = path.resolve(moduleName);
  const extension = path.extname(file);
  const typescript = TYPESCRIPT.includes(extension);
  if (!typescript && !JAVASCRIPT.includes(extension))
    throw new Error(
      `RUNWARDEN_CONFIG=${moduleName}: a catalog is a module ending in ${[...TYPESCRIPT, ...JAVASCRIPT].join(', ')}, ` +
        `not ${extension ? `"${extension}"` : 'a name without an extension'}`,
    );
  const found = await stat(file).catch(() => undefined);
  if (!found?.isFile()) throw new Error(`RUNWARDEN_CONFIG=${moduleName}: no such file (${file})`);
  if (extension === '.ts') await assertLoadsAsModule(file, moduleName);
  const url = pathToFileURL(file).href;
  // The catalog's own project settings, not those found from the working directory (a monorepo
  // root's `paths` could otherwise load a second copy of runwarden).
  const ownTsconfig = path.join(path.dirname(file), 'tsconfig.json');
  const tsconfig = (await stat(ownTsconfig).catch(() => undefined))?.isFile() ? ownTsconfig : false;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await (typescript
      ? tsImport(url, { parentURL: url, tsconfig })
      : import(url))) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`RUNWARDEN_CONFIG=${moduleName} could not be loaded: ${String(error)}`, {
      cause: error,
    });
  }
  const catalog = loaded.catalog ?? loaded.default;
  if (!Array.isArray(catalog)) {
    throw new Error(
      `RUNWARDEN_CONFIG=${moduleName} must export \`catalog\` (or a default export): an array of operations`,
    );
  }
  const schedules = loaded.schedules ?? [];
  if (!Array.isArray(schedules))
    throw new Error(`RUNWARDEN_CONFIG=${moduleName}: \`schedules\` must be an array`);
  return {
    operations: catalog as OperationDefinition[],
    schedules: schedules as ScheduleDefinition[],
    // Checked (an array of pools) by the registry, with a message naming what is wrong.
    flowPools: loaded.flowPools as FlowPool[] | undefined,
  };
}

/**
 * A `.ts` file takes its module system from the nearest package.json, as a `.js` one does; as
 * CommonJS its `import … from 'runwarden'` becomes a require of an ES-module-only package (and
 * `zod` a second copy), so it is refused up front with the fix instead of failing inside.
 */
async function assertLoadsAsModule(file: string, moduleName: string): Promise<void> {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    const text = await readFile(manifest, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      if (packageType(text) === 'module') return;
      throw new Error(
        `RUNWARDEN_CONFIG=${moduleName} would load as CommonJS: ${manifest} has no "type": "module". ` +
          'Add it (`npm pkg set type=module`) or name the file .mts.',
      );
    }
    if (path.dirname(dir) === dir)
      throw new Error(
        `RUNWARDEN_CONFIG=${moduleName} would load as CommonJS: no package.json above it. ` +
          'Add one with "type": "module" (`npm init -y && npm pkg set type=module`) or name the file .mts.',
      );
  }
}

function packageType(manifest: string): unknown {
  try {
    const parsed: unknown = JSON.parse(manifest);
    return typeof parsed === 'object' && parsed !== null && 'type' in parsed
      ? parsed.type
      : undefined;
  } catch {
    return undefined;
  }
}
