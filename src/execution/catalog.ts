import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { demoCatalog } from '../catalog/index.js';
import type { OperationDefinition } from './operation.js';

/**
 * The operation catalog of this process: the module named by RUNWARDEN_CONFIG (exporting
 * `catalog`, or a default export, as an array of operations), else the demo catalog.
 */
export async function loadCatalog(moduleName: string | undefined): Promise<OperationDefinition[]> {
  if (!moduleName) return demoCatalog();
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
  return catalog as OperationDefinition[];
}
