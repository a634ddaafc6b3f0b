import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated, authorize, visibleTenantIds } from '../../access/authorize.js';
import type { ApiContext } from '../context.js';
import type { StreamHub, StreamScope } from '../stream-hub.js';

export interface StreamRouteOptions extends ApiContext {
  hub: StreamHub;
  heartbeatMs: number;
}

/**
 * `GET /api/stream` (Server-Sent Events): `run` events carry the changed run as every response
 * does (with `truth`); `resync` asks the client to reload; a comment line every 15 s keeps proxies
 * from closing an idle stream. Resumes from `Last-Event-ID`.
 */
export const streamRoutes: FastifyPluginAsyncZod<StreamRouteOptions> = async (app, ctx) => {
  app.get(
    '/api/stream',
    {
      schema: {
        tags: ['stream'],
        querystring: z.object({ workspace: z.string().min(1).max(100).optional() }),
        headers: z.object({ 'last-event-id': z.coerce.number().int().min(0).optional() }),
      },
    },
    async (request, reply) => {
      const principal = authenticated(request.principal);
      const workspaces = request.query.workspace
        ? [
            authorize(
              principal,
              { kind: 'workspace', ref: request.query.workspace },
              'operations.view',
            ).access,
          ]
        : principal.workspaces.filter((w) => w.capabilities.includes('operations.view'));
      const scope: StreamScope = workspaces.map((w) => ({
        workspaceId: w.id,
        tenantIds: visibleTenantIds(w),
      }));
      const lastEventId = request.headers['last-event-id'];

      // Listening must work before the response is taken over, so a failure is still a JSON error.
      await ctx.hub.ready();
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const write = (text: string) => {
        if (!raw.writableEnded) raw.write(text);
      };
      type Event = { id?: number; event: string; data: unknown };
      const format = (event: Event) =>
        `${event.id === undefined ? '' : `id: ${event.id}\n`}event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
      // Live changes wait until the replay is written, so a client's Last-Event-ID never goes back.
      let held: Event[] | undefined = lastEventId === undefined ? undefined : [];
      const client = {
        scope,
        send(event: Event) {
          if (held) held.push(event);
          else write(format(event));
        },
      };
      write('retry: 2000\n\n');
      const unsubscribe = ctx.hub.subscribe(client);
      const heartbeat = setInterval(() => write(': heartbeat\n\n'), ctx.heartbeatMs);
      let forget: (() => void) | undefined;
      const stop = () => {
        clearInterval(heartbeat);
        unsubscribe();
        forget?.();
        if (!raw.writableEnded) raw.end();
      };
      forget = ctx.hub.onClose(stop);
      request.raw.on('close', stop);
      if (lastEventId !== undefined) {
        const missed = await ctx.hub.replay(lastEventId, scope);
        if (missed.resync) write(format({ event: 'resync', data: {} }));
        else
          for (const e of missed.events)
            write(format({ id: e.id, event: 'run', data: { run: e.run } }));
        const live = held ?? [];
        held = undefined;
        for (const event of live) write(format(event));
      }
      client.send({ event: 'ready', data: { workspaces: scope.map((s) => s.workspaceId) } });
    },
  );
};
