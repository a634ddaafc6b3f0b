import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticated, authorize, notFound } from '../../access/authorize.js';
import type { Principal } from '../../access/principal.js';
import { principalVisibility, workspaceVisibility } from '../../access/visibility.js';
import { visibleWorkspaces } from '../../domain/visibility.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { authorizeRun } from '../run-access.js';
import { readModelOf } from '../run-view.js';
import { type SseEvent, SseWriter } from '../sse-writer.js';
import { streamRecheck } from '../stream-caller.js';
import type { StreamClient, StreamHub } from '../stream-hub.js';

/** Live changes kept while a resuming client's replay is read; more than this is a `resync`. */
const MAX_HELD = 1000;

export interface StreamRouteOptions extends ApiContext {
  hub: StreamHub;
  heartbeatMs: number;
}

/**
 * `GET /api/stream` (Server-Sent Events): `run` events carry the changed run as every response
 * does (with `truth`); `resync` asks the client to reload; a comment line every 15 s keeps proxies
 * from closing an idle stream. Resumes from `Last-Event-ID`. The caller is checked again on every
 * directory change and heartbeat; the stream ends once they may not see what it shows.
 */
export const streamRoutes: FastifyPluginAsyncZod<StreamRouteOptions> = async (app, ctx) => {
  const reads = readModelOf(ctx);
  app.get(
    '/api/stream',
    {
      schema: {
        tags: ['stream'],
        summary:
          'Server-Sent Events of the run changes the caller may see; resumes from Last-Event-ID',
        operationId: 'streamRunChanges',
        querystring: z.object({
          workspace: z.string().min(1).max(100).optional(),
          run: z
            .uuid()
            .optional()
            .describe("one run's stream: its changes, and `log` events when lines were appended"),
        }),
        headers: z.object({ 'last-event-id': z.coerce.number().int().min(0).optional() }),
        response: {
          200: {
            description:
              'An event stream: `run` events ({run}, with an id to resume from), `resync` (reload), `ready` ({workspaces}); with `run`, also `log` ({runId, seq}: lines up to seq were appended)',
            content: { 'text/event-stream': { schema: z.string() } },
          },
          ...errorResponses(403, 404),
        },
      },
    },
    async (request, reply) => {
      const principal = authenticated(request.principal);
      const workspace = request.query.workspace;
      const visibilityOf = (caller: Principal) =>
        workspace
          ? workspaceVisibility(
              authorize(caller, { kind: 'workspace', ref: workspace }, 'operations.view').access,
            )
          : principalVisibility(caller, 'operations.view');
      const scope = visibilityOf(principal);
      const lastEventId = request.headers['last-event-id'];
      const only = request.query.run;
      if (only) {
        // The same 404 as the run's page for a run the caller may not see.
        const run = await reads.find(only, ctx.now());
        if (!run) throw notFound('run');
        await authorizeRun(ctx.db, principal, run, 'operations.view');
      }

      // Listening, subscribing and the replay come before the response is taken over, so a
      // failure (the database is unreachable) is still a JSON error (503).
      await ctx.hub.ready();
      // Live changes wait until the replay is written, so a client's Last-Event-ID never goes back.
      let held: SseEvent[] | undefined = [];
      let heldTooMany = false;
      let writer: SseWriter | undefined;
      const client: StreamClient = {
        scope,
        only,
        send(event: SseEvent) {
          if (writer) writer.send(event);
          else if (held && held.length < MAX_HELD) held.push(event);
          else heldTooMany = true;
        },
      };
      const unsubscribe = ctx.hub.subscribe(client);
      let gone = false;
      const leave = () => {
        gone = true;
        unsubscribe();
      };
      request.raw.on('close', leave);
      let missed: Awaited<ReturnType<StreamHub['replay']>> | undefined;
      try {
        if (lastEventId !== undefined) missed = await ctx.hub.replay(lastEventId, scope, only);
      } catch (error) {
        leave();
        request.raw.off('close', leave);
        throw error;
      }
      reply.hijack();
      if (gone || request.raw.socket.destroyed) {
        leave();
        reply.raw.destroy();
        return;
      }
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const out = new SseWriter(raw);
      out.write('retry: 2000\n\n');
      let forget: (() => void) | undefined;
      const stop = () => {
        clearInterval(heartbeat);
        leave();
        forget?.();
        out.end();
      };
      const recheck = streamRecheck({
        principal,
        scope,
        reload: request.reloadPrincipal,
        visibilityOf,
        end: stop,
        logger: ctx.logger,
      });
      const heartbeat = setInterval(() => {
        out.writeIfIdle(': heartbeat\n\n');
        recheck();
      }, ctx.heartbeatMs);
      client.recheck = recheck;
      forget = ctx.hub.onClose(stop);
      request.raw.on('close', stop);
      if (missed?.resync || heldTooMany) out.send({ event: 'resync', data: {} });
      else
        for (const e of missed?.events ?? [])
          out.send({ id: e.id, event: 'run', data: { run: e.run } });
      const live = heldTooMany ? [] : (held ?? []);
      held = undefined;
      writer = out;
      for (const event of live) out.send(event);
      client.send({ event: 'ready', data: { workspaces: visibleWorkspaces(scope) ?? [] } });
    },
  );
};
