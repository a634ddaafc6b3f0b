import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { demoCatalog, demoSchedules } from '../catalog/index.js';
import type { OperationDefinition } from '../execution/operation.js';
import type { ScheduleDefinition } from '../execution/schedules.js';

export interface Catalog {
  operations: OperationDefinition[];
  schedules: ScheduleDefinition[];
}

/**
 * The operation catalog of this process: the module named by RUNWARDEN_CONFIG (exporting
 * `catalog`, or a default export, as an array of operations, and optionally `schedules`), else
 * the demo catalog and its schedules.
 */
export async function loadCatalog(moduleName: string | undefined): Promise<Catalog> {
  if (!moduleName) return { operations: demoCatalog(), schedules: demoSchedules };
  const url = pathToFileURL(path.resolve(moduleName)).href;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(url)) as Record<string, unknown>;
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
  };
}
