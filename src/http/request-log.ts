import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
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
