import { sql } from 'kysely';
import { outranks } from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';
import type { DirectoryActor } from './directory-changes.js';
import type { TokenCreateInput, TokenRevokeInput } from './directory-input.js';
import type { DirectoryWriter } from './directory-writer.js';
import { createToken as insertToken } from './tokens.js';

export async function createTokenWith(
  w: DirectoryWriter,
  data: ReturnType<typeof TokenCreateInput.parse>,
  actor: DirectoryActor | undefined,
) {
  const ws = await w.findWorkspace(data.workspace);
  let creator = w.db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.email', 'memberships.role'])
    .where('memberships.workspace_id', '=', ws.id)
    .where('users.disabled_at', 'is', null);
  creator = data.as
    ? creator.where(sql<string>`lower(users.email)`, '=', data.as)
    : creator.where('memberships.role', '=', 'owner').orderBy('memberships.created_at');
  const by = await (actor?.userId
    ? creator.where('users.id', '=', actor.userId)
    : creator
  ).executeTakeFirst();
  if (!by)
    throw new RunwardenError(
      data.as ? 'not_found' : 'conflict',
      data.as
        ? `${data.as} is not an enabled member of workspace ${ws.slug}.`
        : `Workspace ${ws.slug} has no enabled owner for the token to act for; name a member.`,
    );
  // A token never has more rights than its member.
  if (outranks(data.role, by.role))
    throw new RunwardenError(
      'validation_failed',
      `A ${data.role} token cannot act for ${by.email}, who is ${by.role} in ${ws.slug}.`,
      { details: { problems: [`role: more than the ${by.role} it acts for`] } },
    );
  const token = await insertToken(w.db, {
    workspaceId: ws.id,
    name: data.name,
    role: data.role,
    createdBy: by.id,
  });
  await w.note(
    ws.id,
    { action: 'created', kind: 'token', key: `${ws.slug}/${data.name}`, id: token.id },
    { name: data.name, role: data.role, createdBy: by.id },
  );
  return { id: token.id, token: token.token, workspaceId: ws.id, createdBy: by.id };
}

export async function revokeTokenWith(
  w: DirectoryWriter,
  data: ReturnType<typeof TokenRevokeInput.parse>,
) {
  const ws = await w.findWorkspace(data.workspace);
  const row = await w.db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'revoked_at'])
    .where('id', '=', data.id)
    .where('workspace_id', '=', ws.id)
    .executeTakeFirst();
  if (!row) throw new RunwardenError('not_found', `No token ${data.id} in workspace ${ws.slug}.`);
  if (row.revoked_at) return { revoked: false };
  await w.db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', row.id)
    .execute();
  await w.note(
    ws.id,
    { action: 'revoked', kind: 'token', key: `${ws.slug}/${row.name}`, id: row.id },
    { name: row.name },
  );
  return { revoked: true };
}
