import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { OperationRegistry } from '../../execution/registry.js';
import { scheduleCronItems } from '../../execution/schedules.js';
import { loadCatalog, NO_CATALOG_HINT } from '../catalog.js';

export function registerSchedules(program: Command): void {
  program
    .command('schedules')
    .description('List the cron schedules of the catalog RUNWARDEN_CONFIG names and check them.')
    .addHelpText(
      'after',
      '\nEvery `runwarden worker` fires these; each tick starts a system run (no initiator) per target\n' +
        'through the normal start path, so a tick while a run is still active reuses it.',
    )
    .action(async () => {
      const config = loadConfig();
      if (!config.catalogModule) throw new Error(NO_CATALOG_HINT);
      const catalog = await loadCatalog(config.catalogModule);
      scheduleCronItems(catalog.schedules, new OperationRegistry(catalog.operations)); // fail fast on bad ones
      if (catalog.schedules.length === 0) {
        console.log('No schedules in this catalog.');
        return;
      }
      const rows = catalog.schedules.map((s) => [
        s.id,
        s.type,
        s.cron,
        s.tenant ? `${s.workspace}/${s.tenant}` : s.workspace,
        JSON.stringify(s.input),
      ]);
      const header = ['ID', 'TYPE', 'CRON (UTC)', 'TARGET', 'INPUT'];
      const widths = header.map((h, i) =>
        Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
      );
      for (const row of [header, ...rows])
        console.log(
          row
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd(),
        );
    });
}
