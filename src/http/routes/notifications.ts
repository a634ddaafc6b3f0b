import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated, notFound } from '../../access/authorize.js';
import { principalVisibility } from '../../access/visibility.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { readModelOf } from '../run-view.js';
import { NotificationSchema } from '../schemas.js';

/** In-app notifications: the caller's own, about runs they may still see (DESIGN §8). */
export const notificationRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const reads = readModelOf(ctx);

  app.get(
    '/api/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: "The caller's latest notifications and how many are unread",
        operationId: 'listNotifications',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(30) }),
        response: {
          200: z.object({ items: z.array(NotificationSchema), unreadCount: z.number() }),
        },
      },
    },
    async (request) => {
      const principal = authenticated(request.principal);
      // A service token is nobody in person: nothing notifies it.
      if (principal.userId === null) return { items: [], unreadCount: 0 };
      const { items, unreadCount } = await reads.notifications(
        principal.userId,
        principalVisibility(principal),
        request.query.limit,
      );
      return {
        items: items.map((n) => ({
          id: n.id,
          runId: n.run_id,
          title: n.title,
          body: n.body,
          link: n.link,
          createdAt: n.created_at.toISOString(),
          readAt: n.read_at ? n.read_at.toISOString() : null,
        })),
        unreadCount,
      };
    },
  );

  app.post(
    '/api/notifications/:id/read',
    {
      schema: {
        tags: ['notifications'],
        summary: "Mark one of the caller's notifications read",
        operationId: 'markNotificationRead',
        params: z.object({ id: z.uuid() }),
        response: { 200: z.object({ id: z.string(), readAt: z.string() }), ...errorResponses(404) },
      },
    },
    async (request) => {
      const principal = authenticated(request.principal);
      if (principal.userId === null) throw notFound('notification');
      const read = await reads.markNotificationRead(
        principal.userId,
        principalVisibility(principal),
        request.params.id,
        new Date(),
      );
      if (!read) throw notFound('notification');
      return { id: read.id, readAt: read.readAt.toISOString() };
    },
  );

  app.post(
    '/api/notifications/read-all',
    {
      schema: {
        tags: ['notifications'],
        summary: "Mark all of the caller's notifications read",
        operationId: 'markAllNotificationsRead',
        response: { 200: z.object({ marked: z.number(), readAt: z.string() }) },
      },
    },
    async (request) => {
      const principal = authenticated(request.principal);
      const now = ctx.now();
      const marked =
        principal.userId === null ? 0 : await reads.markAllNotificationsRead(principal.userId, now);
      return { marked, readAt: now.toISOString() };
    },
  );
};
