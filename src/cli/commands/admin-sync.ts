import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { DirectoryChange, DirectoryResult } from '../../access/directory.js';
import { problemsError, withDirectory } from './admin-session.js';

export function registerAdminSync(admin: Command): void {
  admin
    .command('sync')
    .description('Upsert workspaces, tenants, members and platform staff from a directory.json.')
    .requiredOption('--file <path>', 'the directory.json to apply')
    .option('--dry-run', 'print what would change; write nothing')
    .option(
      '--prune',
      'also remove the members and deactivate the tenants of each listed workspace the file no longer lists',
    )
    .addHelpText(
      'after',
      [
        '',
        'The whole file is applied in one transaction: a file with any problem writes nothing and exits 1',
        "with every problem listed. Keys are the host platform's: workspace slug, tenant slug, email.",
        'Re-running the same file changes nothing. --prune never deletes a workspace, a tenant or a run;',
        'with a "platformStaff" list it also clears the platform capabilities of staff no longer listed',
        '(never of a platform admin holding platform.directory: list them to change them).',
        'New people without a password get a one-time set-password link (printed once, valid 7 days).',
        '',
        'directory.json:',
        '  {"workspaces":[{"slug":"acme","name":"Acme",',
        '     "tenants":[{"slug":"acme-prod","name":"Acme Production","status":"active"}],',
        '     "members":[{"email":"owner@acme.example","name":"Olive","role":"owner","tenants":null},',
        '                {"email":"ops@acme.example","role":"operator","tenants":["acme-prod"]}]}],',
        '   "platformStaff":[{"email":"sre@host.example","capabilities":["system.ops.view"]}]}',
        'roles: owner, manager, operator, readonly; tenant status: active, inactive;',
        'platform capabilities: system.ops.view, system.ops.triage, platform.directory.',
      ].join('\n'),
    )
    .action(async (options: { file: string; dryRun?: boolean; prune?: boolean }) => {
      const text = await readFile(options.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new Error(`cannot read ${options.file}: ${error.code ?? error.message}`);
      });
      let file: unknown;
      try {
        file = JSON.parse(text);
      } catch (error) {
        throw new Error(
          `${options.file} is not valid JSON (${(error as Error).message}); nothing was written`,
        );
      }
      await withDirectory(async (directory) => {
        const result = await directory
          .sync(file, { prune: Boolean(options.prune), dryRun: Boolean(options.dryRun) })
          .catch((error: unknown) => {
            throw problemsError(options.file, error);
          });
        for (const line of report(result)) console.log(line);
      });
    });
}

function describe(change: DirectoryChange): string {
  const verb = change.pruned ? `pruned (${change.action})` : change.action;
  const details = Object.entries(change.details ?? {})
    .filter(([key]) => key !== 'invited')
    .map(([key, value]) => {
      if (value && typeof value === 'object' && 'from' in value && 'to' in value) {
        const { from, to } = value as { from: unknown; to: unknown };
        return `${key}: ${JSON.stringify(from)} → ${JSON.stringify(to)}`;
      }
      return `${key}: ${JSON.stringify(value)}`;
    });
  return `${verb} ${change.kind.replace('_', ' ')} ${change.key}${details.length ? ` (${details.join(', ')})` : ''}`;
}

export function report(result: DirectoryResult): string[] {
  const lines = result.changes.map(describe);
  for (const invite of result.invites)
    lines.push(
      `set-password link for ${invite.email} (shown once, valid until ${invite.expiresAt.toISOString()}): ${invite.url}`,
    );
  const pruned = result.changes.filter((c) => c.pruned).length;
  const created = result.changes.filter((c) => !c.pruned && c.action === 'created').length;
  const changed = result.changes.length - created - pruned;
  lines.push(
    `${result.dryRun ? 'dry run, nothing written: would have ' : ''}created ${created}, changed ${changed}, pruned ${pruned}`,
  );
  return lines;
}
