import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated, notFound, visibleTenantIds } from '../../access/authorize.js';
import type { Principal } from '../../access/principal.js';
import type { ApiContext } from '../context.js';
import { NotificationSchema } from '../schemas.js';

/** In-app notifications: the caller's own, about runs they may still see (DESIGN §8). */
export const notificationRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  function visible(principal: Principal) {
    return ctx.db
      .selectFrom('notifications')
      .innerJoin('operation_runs as run', 'run.id', 'notifications.run_id')
      .where('notifications.user_id', '=', principal.userId)
      .where((eb) =>
        eb.or([
          eb.val(false),
          ...principal.workspaces.map((w) => {
            const tenants = visibleTenantIds(w);
            return tenants
              ? eb.and([
                  eb('run.workspace_id', '=', w.id),
                  eb('run.tenant_id', 'in', tenants.length ? tenants : [w.id]),
                ])
              : eb('run.workspace_id', '=', w.id);
          }),
        ]),
      );
  }

  app.get(
    '/api/notifications',
    {
      schema: {
        tags: ['notifications'],
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(30) }),
        response: {
          200: z.object({ items: z.array(NotificationSchema), unreadCount: z.number() }),
        },
      },
    },
    async (request) => {
      const principal = authenticated(request.principal);
      const [rows, unread] = await Promise.all([
        visible(principal)
          .selectAll('notifications')
          .orderBy('notifications.created_at', 'desc')
          .limit(request.query.limit)
          .execute(),
        visible(principal)
          .where('notifications.read_at', 'is', null)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
      ]);
      return {
        items: rows.map((n) => ({
          id: n.id,
          runId: n.run_id,
          title: n.title,
          body: n.body,
          link: n.link,
          createdAt: n.created_at.toISOString(),
          readAt: n.read_at ? n.read_at.toISOString() : null,
        })),
        unreadCount: Number(unread.n),
      };
    },
  );

  app.post(
    '/api/notifications/:id/read',
    {
      schema: {
        tags: ['notifications'],
        params: z.object({ id: z.uuid() }),
        response: { 200: z.object({ id: z.string(), readAt: z.string() }) },
      },
    },
    async (request) => {
      const principal = authenticated(request.principal);
      const mine = await visible(principal)
        .select(['notifications.id', 'notifications.read_at'])
        .where('notifications.id', '=', request.params.id)
        .executeTakeFirst();
      if (!mine) throw notFound('notification');
      const readAt = mine.read_at ?? new Date();
      if (!mine.read_at) {
        await ctx.db
          .updateTable('notifications')
          .set({ read_at: readAt })
          .where('id', '=', mine.id)
          .execute();
      }
      return { id: mine.id, readAt: readAt.toISOString() };
    },
  );
};
