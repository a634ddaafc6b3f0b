import type { Command } from 'commander';
import { problemsError, readStdin, withDirectory } from './admin-session.js';

export function registerAdminBootstrap(admin: Command): void {
  admin
    .command('bootstrap')
    .description(
      'Create the first platform admin (platform.directory + system.ops.view + system.ops.triage).',
    )
    .requiredOption('--email <email>', 'their email (lower-cased)')
    .option('--name <name>', 'their display name (default: the part before @)')
    .option('--password-stdin', 'read their password from standard input instead of inviting them')
    .addHelpText(
      'after',
      [
        '',
        'Works only while no enabled user holds platform.directory; afterwards that admin manages the',
        'directory (or use `runwarden admin sync`). Without --password-stdin it prints a one-time',
        'set-password link, <RUNWARDEN_PUBLIC_URL>/invite/<token>, valid 7 days and shown only once.',
        '',
        'Example:',
        '  printf %s "$ADMIN_PASSWORD" | runwarden admin bootstrap --email admin@example.com --password-stdin',
      ].join('\n'),
    )
    .action(async (options: { email: string; name?: string; passwordStdin?: boolean }) => {
      const password = options.passwordStdin ? await readStdin() : undefined;
      await withDirectory(async (directory) => {
        const result = await directory
          .bootstrap({
            email: options.email,
            ...(options.name ? { name: options.name } : {}),
            ...(password !== undefined ? { password } : {}),
          })
          .catch((error: unknown) => {
            throw problemsError('The bootstrap request', error);
          });
        const email = options.email.trim().toLowerCase();
        console.log(
          `platform admin ${email}: platform.directory, system.ops.view, system.ops.triage`,
        );
        if (result.invite)
          console.log(
            `set-password link (shown once, valid until ${result.invite.expiresAt.toISOString()}): ${result.invite.url}`,
          );
        else console.log('password set from standard input');
      });
    });
}
