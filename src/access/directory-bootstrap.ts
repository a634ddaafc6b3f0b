import { sql } from 'kysely';
import type { PlatformCapability } from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';
import type { BootstrapInput } from './directory-input.js';
import type { DirectoryWriter } from './directory-writer.js';

/** The capabilities of the first platform admin (`runwarden admin bootstrap`). */
export const BOOTSTRAP_CAPABILITIES: readonly PlatformCapability[] = [
  'platform.directory',
  'system.ops.view',
  'system.ops.triage',
];

export async function bootstrapWith(
  w: DirectoryWriter,
  data: ReturnType<typeof BootstrapInput.parse>,
) {
  const admin = await w.db
    .selectFrom('users')
    .select('email')
    .where(sql<boolean>`'platform.directory' = any(platform_capabilities)`)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  if (admin)
    throw new RunwardenError(
      'conflict',
      'This directory already has a platform admin; use their account (or `runwarden admin sync`).',
      { details: { reason: 'already_bootstrapped' } },
    );
  const invitesBefore = w.invites.length;
  const { user } = await w.user(data);
  if (!data.password && !w.invites[invitesBefore]) await w.invite(user.id, user.email); // an existing account gets its own link
  await w.platformStaff(user, [
    ...new Set([...user.platform_capabilities, ...BOOTSTRAP_CAPABILITIES]),
  ]);
  return { userId: user.id, invite: w.invites[invitesBefore] };
}
