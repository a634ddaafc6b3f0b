import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../logger.js';

/** Path segments that carry a secret: an invite link's one-time token. */
const SECRET_PATHS = /\/invite\/[^/?#]+/g;

/** A URL as it may be logged: secrets in its path masked. */
export function loggableUrl(url: string): string {
  return url.replace(SECRET_PATHS, '/invite/[redacted]');
}

/**
 * The logger Fastify logs requests with: Fastify's own request fields, but the URL with its
 * secrets masked (an invite link must not survive in the access log after its one showing).
 * Fastify takes a logger instance's `serializers` over its defaults.
 */
export function requestLogger(logger: Logger): FastifyBaseLogger {
  return Object.assign(logger.child({}), {
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: loggableUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
  }) as FastifyBaseLogger;
}

/**
 * Access logging for people: each request one line at `debug`, and at `info` one summary line a
 * minute (only when there were requests) instead of two lines per request.
 */
export function registerAccessLog(app: FastifyInstance, logger: Logger, intervalMs = 60_000): void {
  let window = newWindow();
  const every = intervalMs >= 1000 ? `${Math.round(intervalMs / 1000)} s` : `${intervalMs} ms`;
  app.addHook('onResponse', async (request, reply) => {
    const ms = reply.elapsedTime;
    const status = reply.statusCode;
    window.requests += 1;
    window.byClass[`${Math.floor(status / 100)}xx`] =
      (window.byClass[`${Math.floor(status / 100)}xx`] ?? 0) + 1;
    if (window.durations.length < 10_000) window.durations.push(ms);
    request.log.debug(
      { method: request.method, url: loggableUrl(request.url), status, ms: Math.round(ms) },
      `${request.method} ${loggableUrl(request.url)} ${status} ${Math.round(ms)} ms`,
    );
  });
  const timer = setInterval(() => {
    const done = window;
    window = newWindow();
    if (done.requests === 0) return;
    const sorted = done.durations.sort((a, b) => a - b);
    const p95 = Math.round(
      sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0,
    );
    const classes = Object.entries(done.byClass)
      .sort()
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    logger.info(
      { requests: done.requests, statuses: done.byClass, p95Ms: p95 },
      `api: ${done.requests} request${done.requests === 1 ? '' : 's'} in the last ${every} (${classes}), p95 ${p95} ms`,
    );
  }, intervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}

function newWindow() {
  return { requests: 0, byClass: {} as Record<string, number>, durations: [] as number[] };
}
