import { z } from 'zod';
import { authenticated, authorize, notFound } from '../../access/authorize.js';
import type { DirectoryActor } from '../../access/directory.js';
import type { directoryReads } from '../../access/directory-reads.js';
import { actorOf as auditActorOf, type Principal } from '../../access/principal.js';

export const WsParam = z.object({ ws: z.string().min(1).max(100) });
export const NoContent = z.null().describe('No content');

export function actorOf(principal: Principal): DirectoryActor {
  return { ...auditActorOf(principal), source: 'http' };
}

/** The workspace the caller may manage with `capability`, or 404/403 (DESIGN §10). */
export function workspaceManager(reads: ReturnType<typeof directoryReads>) {
  return async (
    principal: Principal | undefined,
    ref: string,
    capability: 'workspace.manage' | 'tokens.manage',
  ) => {
    const caller = authenticated(principal);
    if (caller.platform.includes('platform.directory')) {
      const workspace = await reads.workspace(ref);
      if (!workspace) throw notFound('workspace');
      return { caller, workspace };
    }
    const { access } = authorize(caller, { kind: 'workspace', ref }, capability);
    return { caller, workspace: { id: access.id, slug: access.slug, name: access.name } };
  };
}
