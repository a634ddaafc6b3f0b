import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated, authorize, notFound } from '../../access/authorize.js';
import { createDirectory, type DirectoryActor } from '../../access/directory.js';
import { Email, Slug } from '../../access/directory-input.js';
import { directoryReads } from '../../access/directory-reads.js';
import type { Principal } from '../../access/principal.js';
import { ROLES } from '../../domain/capabilities.js';
import { RunwardenError } from '../../domain/errors.js';
import type { ApiContext } from '../context.js';

const WorkspaceSchema = z.object({ id: z.string(), slug: z.string(), name: z.string() });
const TenantSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'inactive']),
});
const MemberSchema = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenantIds: z.array(z.string()).nullable(),
  disabled: z.boolean(),
});
const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  createdBy: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
const WsParam = z.object({ ws: z.string().min(1).max(100) });
const NoContent = z.null().describe('No content');

function actorOf(principal: Principal): DirectoryActor {
  return {
    userId: principal.userId,
    kind: principal.via === 'token' ? 'token' : 'user',
    source: 'http',
  };
}

/**
 * Directory and access management (DESIGN §10, §11): platform staff with platform.directory
 * create workspaces and manage any workspace; a workspace owner manages their own (tenants and
 * members: workspace.manage; tokens: tokens.manage). Outsiders get 404, as if it did not exist.
 * Every write goes through the directory module: one audited transaction, nothing written on error.
 */
export const directoryRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const directory = createDirectory({ db: ctx.db });
  const reads = directoryReads(ctx.db);

  /** The workspace the caller may manage with `capability`, or 404/403 (DESIGN §10). */
  async function managed(
    principal: Principal | undefined,
    ref: string,
    capability: 'workspace.manage' | 'tokens.manage',
  ) {
    const caller = authenticated(principal);
    if (caller.platform.includes('platform.directory')) {
      const workspace = await reads.workspace(ref);
      if (!workspace) throw notFound('workspace');
      return { caller, workspace };
    }
    const { access } = authorize(caller, { kind: 'workspace', ref }, capability);
    return { caller, workspace: { id: access.id, slug: access.slug, name: access.name } };
  }

  app.post(
    '/api/workspaces',
    {
      schema: {
        tags: ['directory'],
        summary: 'Create or rename a workspace (platform.directory)',
        operationId: 'upsertWorkspace',
        body: z.object({ slug: Slug, name: z.string().trim().min(1).max(200) }),
        response: { 200: WorkspaceSchema, 201: WorkspaceSchema },
      },
    },
    async (request, reply) => {
      const { principal } = authorize(
        request.principal,
        { kind: 'platform' },
        'platform.directory',
      );
      const result = await directory.upsertWorkspace(request.body, { actor: actorOf(principal) });
      return reply.status(result.outcome === 'created' ? 201 : 200).send(result.workspace);
    },
  );

  app.get(
    '/api/workspaces/:ws/tenants',
    {
      schema: {
        tags: ['directory'],
        summary: "List a workspace's tenants (workspace.manage)",
        operationId: 'listTenants',
        params: WsParam,
        response: { 200: z.object({ items: z.array(TenantSchema) }) },
      },
    },
    async (request) => {
      const { workspace } = await managed(request.principal, request.params.ws, 'workspace.manage');
      return { items: await reads.tenants(workspace.id) };
    },
  );

  app.put(
    '/api/workspaces/:ws/tenants/:slug',
    {
      schema: {
        tags: ['directory'],
        summary: 'Create or update a tenant by slug (workspace.manage)',
        operationId: 'upsertTenant',
        params: WsParam.extend({ slug: Slug }),
        body: z.object({
          name: z.string().trim().min(1).max(200),
          status: z.enum(['active', 'inactive']).optional(),
        }),
        response: { 200: TenantSchema, 201: TenantSchema },
      },
    },
    async (request, reply) => {
      const { caller, workspace } = await managed(
        request.principal,
        request.params.ws,
        'workspace.manage',
      );
      const result = await directory.upsertTenant(
        {
          workspace: workspace.id,
          slug: request.params.slug,
          name: request.body.name,
          ...(request.body.status ? { status: request.body.status } : {}),
        },
        { actor: actorOf(caller) },
      );
      return reply.status(result.outcome === 'created' ? 201 : 200).send(result.tenant);
    },
  );

  app.get(
    '/api/workspaces/:ws/members',
    {
      schema: {
        tags: ['directory'],
        summary: "List a workspace's members (workspace.manage)",
        operationId: 'listMembers',
        params: WsParam,
        response: { 200: z.object({ items: z.array(MemberSchema) }) },
      },
    },
    async (request) => {
      const { workspace } = await managed(request.principal, request.params.ws, 'workspace.manage');
      return { items: await reads.members(workspace.id) };
    },
  );

  app.put(
    '/api/workspaces/:ws/members/:email',
    {
      schema: {
        tags: ['directory'],
        summary:
          'Add or update a member by email; a new person gets a one-time set-password link (workspace.manage)',
        operationId: 'upsertMember',
        params: WsParam.extend({ email: Email }),
        body: z.object({
          role: z.enum(ROLES),
          tenantIds: z.array(z.uuid()).max(1000).nullable(),
          name: z.string().trim().min(1).max(200).optional(),
        }),
        response: {
          200: z.object({ member: MemberSchema }),
          201: z.object({ member: MemberSchema, invite: z.string().optional() }),
        },
      },
    },
    async (request, reply) => {
      const { caller, workspace } = await managed(
        request.principal,
        request.params.ws,
        'workspace.manage',
      );
      const result = await directory.upsertMember(
        {
          workspace: workspace.id,
          email: request.params.email,
          role: request.body.role,
          tenantIds: request.body.tenantIds,
          ...(request.body.name ? { name: request.body.name } : {}),
        },
        { actor: actorOf(caller) },
      );
      if (result.outcome === 'created')
        return reply.status(201).send({
          member: result.member,
          ...(result.invite ? { invite: result.invite.url } : {}),
        });
      return reply.status(200).send({ member: result.member });
    },
  );

  app.delete(
    '/api/workspaces/:ws/members/:userId',
    {
      schema: {
        tags: ['directory'],
        summary:
          'Remove a member: ends their sessions and revokes the tokens they created here (workspace.manage)',
        operationId: 'removeMember',
        params: WsParam.extend({ userId: z.uuid() }),
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { caller, workspace } = await managed(
        request.principal,
        request.params.ws,
        'workspace.manage',
      );
      const result = await directory.removeMember(
        { workspace: workspace.id, userId: request.params.userId },
        { actor: actorOf(caller) },
      );
      if (!result.removed) throw notFound('member');
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/workspaces/:ws/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: "List a workspace's API tokens, never their secrets (tokens.manage)",
        operationId: 'listTokens',
        params: WsParam,
        response: { 200: z.object({ items: z.array(TokenSchema) }) },
      },
    },
    async (request) => {
      const { workspace } = await managed(request.principal, request.params.ws, 'tokens.manage');
      return { items: await reads.tokens(workspace.id) };
    },
  );

  app.delete(
    '/api/workspaces/:ws/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token at once (tokens.manage)',
        operationId: 'revokeToken',
        params: WsParam.extend({ id: z.uuid() }),
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { caller, workspace } = await managed(
        request.principal,
        request.params.ws,
        'tokens.manage',
      );
      await directory.revokeToken(
        { workspace: workspace.id, id: request.params.id },
        { actor: actorOf(caller) },
      );
      return reply.status(204).send(null);
    },
  );
};

/**
 * `POST /api/auth/password`: redeem an invite (no login needed) or change one's own password with
 * the current one (a session). Registered where the caller is identified but not required.
 */
export const passwordRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const directory = createDirectory({ db: ctx.db });
  app.post(
    '/api/auth/password',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set a password from an invite link, or change your own',
        operationId: 'setPassword',
        body: z
          .object({
            newPassword: z.string().min(8).max(1000),
            currentPassword: z.string().max(1000).optional(),
            inviteToken: z.string().min(1).max(200).optional(),
          })
          .refine((b) => (b.currentPassword === undefined) !== (b.inviteToken === undefined), {
            message: 'send currentPassword or inviteToken (one of them)',
          }),
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { newPassword, currentPassword, inviteToken } = request.body;
      if (inviteToken !== undefined) {
        await directory.redeemInvite(inviteToken, newPassword);
        return reply.status(204).send(null);
      }
      const caller = authenticated(request.principal);
      if (caller.via !== 'session')
        throw new RunwardenError('forbidden', 'Change a password from a signed-in session.');
      await directory.changePassword(
        { userId: caller.userId, currentPassword: currentPassword ?? '', newPassword },
        { actor: actorOf(caller) },
      );
      return reply.status(204).send(null);
    },
  );
};
