import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../access/authorize.js';
import { Email, Slug, TenantWeight } from '../../access/directory-input.js';
import { directoryReads } from '../../access/directory-reads.js';
import { ROLES } from '../../domain/capabilities.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { MemberSchema, TenantSchema } from '../schemas.js';
import { actorOf, NoContent, WsParam, workspaceManager } from './directory-access.js';

/** A workspace's tenants and members (workspace.manage); registered inside directoryRoutes. */
export const memberRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const { directory } = ctx;
  const reads = directoryReads(ctx.db);
  const managed = workspaceManager(reads);

  app.get(
    '/api/workspaces/:ws/tenants',
    {
      schema: {
        tags: ['directory'],
        summary: "List a workspace's tenants (workspace.manage)",
        operationId: 'listTenants',
        params: WsParam,
        response: { 200: z.object({ items: z.array(TenantSchema) }), ...errorResponses(403, 404) },
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
        summary: 'Create or update a tenant by slug: name, status, weight (workspace.manage)',
        operationId: 'upsertTenant',
        params: WsParam.extend({ slug: Slug }),
        body: z.strictObject({
          name: z.string().trim().min(1).max(200),
          status: z.enum(['active', 'inactive']).optional(),
          weight: TenantWeight.optional().describe(
            "Its share of flow-controlled execution against other tenants' (1–1000, default 1)",
          ),
        }),
        response: { 200: TenantSchema, 201: TenantSchema, ...errorResponses(403, 404) },
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
          ...(request.body.weight !== undefined ? { weight: request.body.weight } : {}),
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
        response: { 200: z.object({ items: z.array(MemberSchema) }), ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { workspace } = await managed(request.principal, request.params.ws, 'workspace.manage');
      return { items: await reads.members(workspace.id) };
    },
  );

  app.put(
    '/api/workspaces/:ws/members/:member',
    {
      schema: {
        tags: ['directory'],
        summary:
          "Add a member by email (pending until they accept its one-time link) or change a member's role and tenants (workspace.manage)",
        description:
          "A workspace owner changes memberships of this workspace only, never a person's account. " +
          'Anyone not yet a member here is offered a pending membership that grants nothing until they ' +
          'accept its link (signed in as that email, or by setting a password when the email has no ' +
          'account): 201 {member, invite} alike whether or not the email has an account anywhere. ' +
          'Platform staff (platform.directory) write memberships directly, as the host directory does; ' +
          "writing one for an account whose password was chosen through an owner's invitation link " +
          'revokes that password, ends its sessions and person tokens, and answers a fresh `invite`.',
        operationId: 'upsertMember',
        // One path for both member routes (OpenAPI names a path's parameters once): here an email.
        params: WsParam.extend({ member: Email.describe("The member's email") }),
        body: z.strictObject({
          role: z.enum(ROLES),
          tenantIds: z.array(z.uuid()).max(1000).nullable(),
          name: z
            .string()
            .trim()
            .min(1)
            .max(200)
            .optional()
            .describe('Names a person whose account accepting creates; never renames an account'),
        }),
        response: {
          // invite: a set-password link, shown once — for a person new here, or (platform staff)
          // for an account whose password an owner's invitation link had set, revoked now.
          200: z.object({ member: MemberSchema, invite: z.string().optional() }),
          201: z.object({ member: MemberSchema, invite: z.string().optional() }),
          // 409: it would leave the workspace without an owner, or the email is taken elsewhere.
          ...errorResponses(403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const { caller, workspace } = await managed(
        request.principal,
        request.params.ws,
        'workspace.manage',
      );
      const input = {
        workspace: workspace.id,
        email: request.params.member,
        role: request.body.role,
        tenantIds: request.body.tenantIds,
        ...(request.body.name ? { name: request.body.name } : {}),
      };
      const call = { actor: actorOf(caller) };
      if (caller.platform.includes('platform.directory')) {
        const result = await directory.upsertMember(input, call);
        return reply.status(result.outcome === 'created' ? 201 : 200).send({
          member: result.member,
          ...(result.invite ? { invite: result.invite.url } : {}),
        });
      }
      const result = await directory.offerMember(input, call);
      if (!result.offered) return reply.status(200).send({ member: result.member });
      return reply.status(201).send({
        member: result.member,
        ...(result.invite ? { invite: result.invite.url } : {}),
      });
    },
  );

  app.delete(
    '/api/workspaces/:ws/members/:member',
    {
      schema: {
        tags: ['directory'],
        summary:
          'Remove a member (or withdraw a pending one): revokes the tokens they created here; their sessions and other workspaces stay (workspace.manage)',
        operationId: 'removeMember',
        params: WsParam.extend({
          member: z.uuid().describe("The member's user id (a pending member's: as listed)"),
        }),
        // 409: it would leave the workspace without an owner.
        response: { 204: NoContent, ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { caller, workspace } = await managed(
        request.principal,
        request.params.ws,
        'workspace.manage',
      );
      const result = await directory.removeMember(
        { workspace: workspace.id, userId: request.params.member },
        { actor: actorOf(caller) },
      );
      if (!result.removed) throw notFound('member');
      return reply.status(204).send(null);
    },
  );
};
