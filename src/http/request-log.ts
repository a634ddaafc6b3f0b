import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { type Logger, SummaryWindow } from '../logger.js';

/** Path segments that carry a secret: an invite link's one-time token. */
const SECRET_PATHS = /\/invite\/[^/?#]+/g;
/** Query parameters that carry one: the OIDC callback's authorization code and state. */
const SECRET_PARAMS = /([?&](?:code|state)=)[^&#]*/gi;

/** A URL as it may be logged: secrets in its path and query masked. */
export function loggableUrl(url: string): string {
  return url.replace(SECRET_PATHS, '/invite/[redacted]').replace(SECRET_PARAMS, '$1[redacted]');
}

/**
 * The logger Fastify logs requests with: Fastify's own request fields, but the URL with its
 * secrets masked (an invite link must not survive in the access log after its one showing, nor
 * an OIDC code or state).
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
  const window = new SummaryWindow(intervalMs, ({ total, byKey, p95Ms, every }) => {
    const classes = Object.entries(byKey)
      .sort()
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    logger.info(
      { requests: total, statuses: byKey, p95Ms },
      `api: ${total} request${total === 1 ? '' : 's'} in the last ${every} (${classes}), p95 ${p95Ms} ms`,
    );
  });
  app.addHook('onResponse', async (request, reply) => {
    const ms = reply.elapsedTime;
    const status = reply.statusCode;
    window.add(`${Math.floor(status / 100)}xx`, ms);
    // The line is built only when it is written (at info, the summary is all there is).
    if (!logger.isLevelEnabled('debug')) return;
    const url = loggableUrl(request.url);
    request.log.debug(
      { method: request.method, url, status, ms: Math.round(ms) },
      `${request.method} ${url} ${status} ${Math.round(ms)} ms`,
    );
  });
  app.addHook('onClose', async () => window.stop());
}
