import { sql } from 'kysely';
import { outranks } from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';
import type { DirectoryActor } from './directory-changes.js';
import type { TokenCreateInput, TokenRevokeInput } from './directory-input.js';
import type { DirectoryWriter } from './directory-writer.js';
import { createToken as insertToken } from './tokens.js';

/**
 * With `as`: a person token, acting for that enabled member and never above their role (an HTTP
 * caller only ever for themselves). Without: a service token, acting for the workspace itself
 * (DESIGN §10): it has no creator, so nobody leaving ends it; owners list and revoke it.
 */
export async function createTokenWith(
  w: DirectoryWriter,
  data: ReturnType<typeof TokenCreateInput.parse>,
  actor: DirectoryActor | undefined,
) {
  const ws = await w.findWorkspace(data.workspace);
  const createdBy = data.as ? await memberFor(w, ws, data, actor) : null;
  const token = await insertToken(w.db, {
    workspaceId: ws.id,
    name: data.name,
    role: data.role,
    createdBy,
  });
  const kind = createdBy ? 'person' : 'service';
  await w.note(
    ws.id,
    { action: 'created', kind: 'token', key: `${ws.slug}/${data.name}`, id: token.id },
    { name: data.name, role: data.role, kind, createdBy },
  );
  return { id: token.id, token: token.token, workspaceId: ws.id, createdBy, kind };
}

async function memberFor(
  w: DirectoryWriter,
  ws: { id: string; slug: string },
  data: { as?: string | undefined; role: ReturnType<typeof TokenCreateInput.parse>['role'] },
  actor: DirectoryActor | undefined,
): Promise<string> {
  const by = await w.db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.email', 'memberships.role'])
    .where('memberships.workspace_id', '=', ws.id)
    .where('users.disabled_at', 'is', null)
    .where(sql<string>`lower(users.email)`, '=', data.as ?? '')
    .$if(Boolean(actor?.userId), (q) => q.where('users.id', '=', actor?.userId ?? ''))
    .executeTakeFirst();
  if (!by)
    throw new RunwardenError(
      'not_found',
      `${data.as} is not an enabled member of workspace ${ws.slug}.`,
    );
  // A token never has more rights than its member.
  if (outranks(data.role, by.role))
    throw new RunwardenError(
      'validation_failed',
      `A ${data.role} token cannot act for ${by.email}, who is ${by.role} in ${ws.slug}.`,
      { details: { problems: [`role: more than the ${by.role} it acts for`] } },
    );
  return by.id;
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
