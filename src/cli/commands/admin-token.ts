import type { Command } from 'commander';
import { ROLES } from '../../domain/capabilities.js';
import { problemsError, withDirectory } from './admin-session.js';

export function registerAdminToken(admin: Command): void {
  const token = admin
    .command('token')
    .description('Create or revoke API tokens of a workspace (shown once, stored hashed).');
  token
    .command('create')
    .description('Create an API token and print it once.')
    .requiredOption('--workspace <slug>', 'the workspace')
    .requiredOption('--name <name>', 'what the token is for, e.g. "ci"')
    .requiredOption('--role <role>', `its role: ${ROLES.join(', ')}`)
    .option(
      '--as <email>',
      'a person token acting for this member (default: a service token for the workspace)',
    )
    .addHelpText(
      'after',
      [
        '',
        'Without --as it is a service token: it acts for the workspace, not a person, so it',
        'survives people leaving; runs it starts show it as their initiator and notify nobody;',
        'its actions are audited as service:<name>; owners list and revoke it.',
        'With --as it is a person token: it acts for that member, never above their role, and',
        'stops when they leave the workspace.',
        'Send it as `Authorization: Bearer <token>`. It is printed once and stored only as a hash.',
      ].join('\n'),
    )
    .action(async (options: { workspace: string; name: string; role: string; as?: string }) => {
      await withDirectory(async (directory) => {
        const created = await directory
          .createToken({
            workspace: options.workspace,
            name: options.name,
            role: options.role as (typeof ROLES)[number],
            ...(options.as ? { as: options.as } : {}),
          })
          .catch((error: unknown) => {
            throw problemsError('The token request', error);
          });
        console.log(`token id: ${created.id}`);
        console.log(
          created.kind === 'service'
            ? `kind: service (acts for workspace ${options.workspace}, audited as service:${options.name})`
            : `kind: person (acts for ${options.as})`,
        );
        console.log(`token (shown once): ${created.token}`);
      });
    });
  token
    .command('revoke')
    .description('Revoke an API token at once (it answers 401 from its next request).')
    .requiredOption('--workspace <slug>', 'the workspace')
    .requiredOption(
      '--id <id>',
      'the token id (from `token create` or GET /api/workspaces/:ws/tokens)',
    )
    .action(async (options: { workspace: string; id: string }) => {
      await withDirectory(async (directory) => {
        const result = await directory
          .revokeToken({ workspace: options.workspace, id: options.id })
          .catch((error: unknown) => {
            throw problemsError('The revoke request', error);
          });
        console.log(
          result.revoked
            ? `revoked token ${options.id}`
            : `token ${options.id} was already revoked`,
        );
      });
    });
}
