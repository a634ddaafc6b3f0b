import type { Command } from 'commander';
import { registerAdminBootstrap } from './admin-bootstrap.js';
import { registerAdminSync } from './admin-sync.js';
import { registerAdminToken } from './admin-token.js';

/** `runwarden admin …`: the directory without SQL (DESIGN §13). */
export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description('Manage the directory (workspaces, tenants, members, platform staff, API tokens).')
    .addHelpText(
      'after',
      [
        '',
        "Every verb is an idempotent, audited change keyed by the host platform's own keys",
        '(workspace slug, tenant slug, lower-cased email), in one transaction. Uses DATABASE_URL, or',
        'the embedded PostgreSQL under RUNWARDEN_DATA_DIR; invite links use RUNWARDEN_PUBLIC_URL.',
      ].join('\n'),
    );
  registerAdminBootstrap(admin);
  registerAdminSync(admin);
  registerAdminToken(admin);
}
